namespace NicScript.Driver.Memory;

/// <summary>Who holds DMA memory: a V-Node or a device. Carries the owner's byte budget.</summary>
/// <remarks>Budgets count the page-rounded size of regions the owner currently owns; borrowed regions do not count.</remarks>
public sealed class DmaOwner
{
    private long _used;

    internal DmaOwner(DmaMemory memory, int id, string name, long budgetBytes, IDmaFaultSink? faultSink)
    {
        Memory = memory;
        Id = id;
        Name = name;
        BudgetBytes = budgetBytes;
        FaultSink = faultSink;
    }

    internal DmaMemory Memory { get; }

    /// <summary>Where DMA faults of devices this owner's driver programmed are reported (the host audits them), or null.</summary>
    public IDmaFaultSink? FaultSink { get; }

    public int Id { get; }

    public string Name { get; }

    /// <summary>The most this owner may hold at once; <see cref="long.MaxValue"/> for devices.</summary>
    public long BudgetBytes { get; }

    public long UsedBytes => Volatile.Read(ref _used);

    internal bool TryCharge(long bytes)
    {
        while (true)
        {
            long used = Volatile.Read(ref _used);
            if (used + bytes > BudgetBytes) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
        }
    }

    internal void Release(long bytes) => Interlocked.Add(ref _used, -bytes);

    public override string ToString() => Name;
}
