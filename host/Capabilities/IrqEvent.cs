namespace NicScript.Host.Capabilities;

/// <summary>What an interrupt handler receives: which line or vector fired, how often since the last call, and how late.</summary>
public sealed class IrqEvent
{
    public IrqEvent(int line, int count, double latencyNs)
    {
        Line = line;
        Count = count;
        LatencyNs = latencyNs;
    }

    /// <summary>The INTx line or MSI-X vector.</summary>
    [ScriptApi] public int Line { get; }

    /// <summary>Interrupts coalesced into this call (1 unless coalescing is on).</summary>
    [ScriptApi] public int Count { get; }

    /// <summary>Nanoseconds from the device raising the interrupt to this handler starting.</summary>
    [ScriptApi] public double LatencyNs { get; }

    public override string ToString() => $"irq {Line} x{Count} ({LatencyNs:0} ns)";
}
