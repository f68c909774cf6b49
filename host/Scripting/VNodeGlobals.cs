using NicScript.Host.Capabilities;

namespace NicScript.Host.Scripting;

/// <summary>The whole world of one V-Node's script: the handles its manifest grants, as globals.</summary>
/// <remarks>
/// Must be public so Roslyn scripts can bind to it. The same instance feeds Jint, whose member-name creator turns
/// <c>Pci</c> into <c>pci</c>; there is no second, hand-written JavaScript API.
/// Design: this part holds the core handles; each device family adds its globals in its own partial part beside its
/// module (<c>host/Families/Rdma/VNodeGlobals.Rdma.cs</c>), because Roslyn binds a script to real members of this type.
/// </remarks>
public sealed partial class VNodeGlobals
{
    private readonly VNodeHandles _handles;

    public VNodeGlobals(VNodeHandles handles)
    {
        _handles = handles;
        VNode = handles.VNode;
        Pci = handles.Pci;
        Irq = handles.Irq;
        Dma = handles.Dma;
        Share = handles.Share;
        Ipc = handles.Ipc;
        Log = handles.Log;
        Metrics = handles.Metrics;
        Net = handles.Net;
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
}
