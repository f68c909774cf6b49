namespace NicScript.Driver.Wire;

/// <summary>A protocol bound to a NIC function that sees each arriving frame before the function's receive queue.</summary>
/// <remarks>Called on the wire's thread with the function's receive path not yet entered: copy what you take, take no locks of the function.</remarks>
public interface IFrameTap
{
    /// <summary>True when the frame is the protocol's (it was copied or dropped and counted); false lets the function receive it.</summary>
    bool Take(ReadOnlySpan<byte> frame);
}
