using NicScript.Driver.Devices.Mana.Gdma;

namespace NicScript.Driver.Devices.Mana;

/// <summary>What the emulated VF counted: traffic, and every refusal that did not reach the host as an exception.</summary>
/// <remarks>The MANA client counts traffic here; doorbells, HWC requests and DMA faults are the GDMA transport's counts, read through.</remarks>
public sealed class ManaStats
{
    internal long TxFrames, TxBytes, RxFrames, RxBytes, TxErrors, RxNoWqe, RxErrors, RxDisabled;
    private readonly GdmaStats _gdma;

    internal ManaStats(GdmaStats gdma) => _gdma = gdma;

    public long TxFramesCount => Interlocked.Read(ref TxFrames);
    public long TxBytesCount => Interlocked.Read(ref TxBytes);
    public long RxFramesCount => Interlocked.Read(ref RxFrames);
    public long RxBytesCount => Interlocked.Read(ref RxBytes);
    /// <summary>SQ WQEs completed with an error CQE (malformed WQE, bad OOB, bad SGE, MTU).</summary>
    public long TxErrorsCount => Interlocked.Read(ref TxErrors);
    /// <summary>Frames dropped because no RQ WQE was posted.</summary>
    public long RxNoWqeCount => Interlocked.Read(ref RxNoWqe);
    /// <summary>RQ WQEs completed with an error (malformed WQE or SGE).</summary>
    public long RxErrorsCount => Interlocked.Read(ref RxErrors);
    /// <summary>Frames dropped because no vPort had RX enabled.</summary>
    public long RxDisabledCount => Interlocked.Read(ref RxDisabled);
    /// <summary>Doorbells naming a queue that does not exist on that page: dropped.</summary>
    public long UnknownDoorbellsCount => Interlocked.Read(ref _gdma.UnknownDoorbells);
    /// <summary>Doorbells with reserved bits set or a producer offset running ahead of the ring: dropped.</summary>
    public long BadDoorbellsCount => Interlocked.Read(ref _gdma.BadDoorbells);
    public long HwcRequestsCount => Interlocked.Read(ref _gdma.HwcRequests);
    /// <summary>HWC requests answered with a non-zero status.</summary>
    public long HwcErrorsCount => Interlocked.Read(ref _gdma.HwcErrors);
    /// <summary>Accesses outside the VF's IOMMU domain (SGEs, queue pages, HWC buffers): each completed with an error.</summary>
    public long DmaFaultsCount => _gdma.Domain?.Faults ?? 0;
}
