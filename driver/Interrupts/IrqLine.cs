namespace NicScript.Driver.Interrupts;

/// <summary>A level-triggered INTx line: asserted while the device has a reason, deasserted when the driver acks the device.</summary>
/// <remarks>
/// Design: the device asserts (e.g. virtio sets an ISR bit) and deasserts when the driver reads its ISR. The handler
/// is called on the rising edge, and again at end of interrupt if the line is still asserted — a level-triggered
/// line keeps interrupting until the device is acknowledged, so a handler that forgets to ack is called again.
/// </remarks>
public sealed class IrqLine : Interrupt
{
    private int _asserted;

    public IrqLine(int line) : base(line) { }

    public override string Name => $"INTx {Number}";

    public bool Asserted => Volatile.Read(ref _asserted) != 0;

    public void Assert()
    {
        if (Interlocked.Exchange(ref _asserted, 1) == 0) Fire();
    }

    public void Deassert() => Volatile.Write(ref _asserted, 0);

    /// <summary>A handler connected to a line already asserted (the device raised it before anyone listened) is called now.</summary>
    protected override void OnConnected()
    {
        if (Asserted) Fire();
    }

    /// <summary>The handler finished: a line still asserted interrupts again.</summary>
    public void EndOfInterrupt()
    {
        if (Asserted) Fire();
    }
}
