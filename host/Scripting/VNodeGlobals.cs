using NicScript.Host.Capabilities;

namespace NicScript.Host.Scripting;

/// <summary>The whole world of one V-Node's script: the handles its manifest grants, as globals.</summary>
/// <remarks>
/// Must be public so Roslyn scripts can bind to it. The same instance feeds Jint, whose member-name creator turns
/// <c>Pci</c> into <c>pci</c>; there is no second, hand-written JavaScript API.
/// </remarks>
public sealed class VNodeGlobals
{
    public VNodeGlobals(VNodeHandles handles)
    {
        VNode = handles.VNode;
        Pci = handles.Pci;
        Irq = handles.Irq;
        Dma = handles.Dma;
        Share = handles.Share;
        Ipc = handles.Ipc;
        Log = handles.Log;
        Metrics = handles.Metrics;
        Net = handles.Net;
        Gdma = handles.Gdma;
        Rdma = handles.Rdma;
        Dpu = handles.Dpu;
        Blk = handles.Blk;
    }

    [ScriptApi] public VNodeInfo VNode { get; }
    [ScriptApi] public PciHandle Pci { get; }
    [ScriptApi] public IrqHandle Irq { get; }
    [ScriptApi] public DmaHandle Dma { get; }
    [ScriptApi] public ShareHandle Share { get; }
    [ScriptApi] public IpcHandle Ipc { get; }
    [ScriptApi] public LogHandle Log { get; }
    [ScriptApi] public MetricsHandle Metrics { get; }
    [ScriptApi] public NetHandle Net { get; }
    [ScriptApi] public GdmaHandle Gdma { get; }
    [ScriptApi] public RdmaHandle Rdma { get; }
    [ScriptApi] public DpuHandle Dpu { get; }
    [ScriptApi] public BlkHandle Blk { get; }
}
