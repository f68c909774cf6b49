namespace NicScript.Driver.Interrupts;

/// <summary>One MSI-X vector of a function: edge-triggered, held pending while masked.</summary>
public sealed class MsixVector : Interrupt
{
    private readonly MsixTable _table;

    internal MsixVector(MsixTable table, int index) : base(index) => _table = table;

    public override string Name => $"MSI-X {Number}";

    public bool Masked => _table.IsMasked(Number);

    public bool Pending => _table.IsPending(Number);

    /// <summary>The device signals the vector: delivered now, or held pending if masked.</summary>
    public void Signal() => _table.Signal(this);

    internal void Deliver() => Fire();
}
