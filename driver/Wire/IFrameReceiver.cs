namespace NicScript.Driver.Wire;

/// <summary>A device's receive side on a wire: called with each frame that arrives at its port.</summary>
/// <remarks>The span is valid only during the call: the receiver copies it (once, into a posted DMA buffer) or drops it.</remarks>
public interface IFrameReceiver
{
    void Receive(ReadOnlySpan<byte> frame);
}
