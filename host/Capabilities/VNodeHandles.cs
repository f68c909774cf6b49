namespace NicScript.Host.Capabilities;

/// <summary>One V-Node's handles, as the broker made them.</summary>
public sealed record VNodeHandles(VNodeInfo VNode, PciHandle Pci, IrqHandle Irq, DmaHandle Dma, ShareHandle Share,
    IpcHandle Ipc, LogHandle Log, MetricsHandle Metrics, NetHandle Net);
