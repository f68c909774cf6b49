namespace NicScript.Driver.Interrupts;

/// <summary>Where a raised interrupt goes: the host's event loop of the V-Node that registered it.</summary>
/// <remarks>Called on the device's thread; implementations queue and return at once.</remarks>
public interface IInterruptSink
{
    /// <param name="raisedTimestamp"><see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when the device raised it.</param>
    void Deliver(Interrupt interrupt, long raisedTimestamp);
}
