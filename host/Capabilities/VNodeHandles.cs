namespace NicScript.Host.Capabilities;

/// <summary>One V-Node's handles, as the broker made them.</summary>
public sealed record VNodeHandles(VNodeInfo VNode, PciHandle Pci, IrqHandle Irq, DmaHandle Dma, ShareHandle Share,
    IpcHandle Ipc, LogHandle Log, MetricsHandle Metrics, NetHandle Net)
{
    /// <summary>The GDMA codec; it needs no grant (it only touches the V-Node's own buffers).</summary>
    public GdmaHandle Gdma { get; } = new();

    /// <summary>RDMA verbs on the host's RDMA device (every call checks <c>CAP_RDMA</c> itself and returns −1 without it).</summary>
    public required RdmaHandle Rdma { get; init; }

    /// <summary>The DPU agent's rpcs in-process (<c>CAP_DPU_ADMIN</c>).</summary>
    public required DpuHandle Dpu { get; init; }

    /// <summary>virtio-blk drivers for the disk functions the V-Node's PCI grants reach.</summary>
    public required BlkHandle Blk { get; init; }
}
