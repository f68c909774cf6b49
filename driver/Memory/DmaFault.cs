namespace NicScript.Driver.Memory;

/// <summary>A device's access outside its function's IOMMU domain: which function, whose driver programmed it, where, how
/// much, which way, and how many faults the function has counted.</summary>
/// <param name="Function">The PCI function (<c>0000:00:1f.0</c>) whose device made the access.</param>
/// <param name="Driver">The DMA owner whose driver the domain was attached to (a V-Node's name), or null when no driver was.</param>
/// <param name="Suppressed">Faults of this function not reported since the previous report (rate limit).</param>
public sealed record DmaFault(string Function, string? Driver, ulong Iova, int Length, bool Write, DmaError Reason, long Total, long Suppressed);

/// <summary>Where an IOMMU domain reports its faults: the attached owner's V-Node (the host audits it), or a device's events.</summary>
public interface IDmaFaultSink
{
    void DmaFault(DmaFault fault);
}
