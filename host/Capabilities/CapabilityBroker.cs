using NicScript.Driver;
using NicScript.Host.Manifests;
using Serilog;

namespace NicScript.Host.Capabilities;

/// <summary>Turns a manifest's grants into scoped handles over one machine; every V-Node on it goes through here.</summary>
/// <remarks>
/// Every handle exists for every V-Node (a script never fails on a missing global), but each one checks the
/// grant on every call that needs it; a refused call is audited and thrown as <see cref="CapabilityDeniedException"/>.
/// </remarks>
public sealed class CapabilityBroker
{
    private readonly Machine _machine;
    private readonly AuditLog _audit;
    private readonly ILogger _log;

    public CapabilityBroker(Machine machine, AuditLog audit, ILogger log)
    {
        _machine = machine;
        _audit = audit;
        _log = log;
    }

    public VNodeDirectory Directory { get; } = new();

    public IpcRouter Ipc { get; } = new();

    /// <summary>Admits a V-Node: its DMA owner gets <c>required_mem_mb</c>, its name joins the directory.</summary>
    public VNodeContext Admit(VNodeManifest manifest)
    {
        var owner = _machine.Dma.CreateOwner(manifest.Name, manifest.Runtime.RequiredMemMb * 1024L * 1024L);
        var ctx = new VNodeContext(manifest, owner, _audit, _log, Directory);
        Directory.Add(ctx);
        return ctx;
    }

    /// <summary>The handles of <paramref name="ctx"/>, each scoped to its grants.</summary>
    public VNodeHandles Handles(VNodeContext ctx) => new(
        new VNodeInfo(ctx),
        new PciHandle(ctx, _machine),
        new IrqHandle(ctx, _machine),
        new DmaHandle(ctx, _machine.Dma),
        new ShareHandle(ctx, _machine.Dma),
        new IpcHandle(ctx, Ipc),
        new LogHandle(ctx),
        new MetricsHandle(ctx),
        new NetHandle(ctx, _machine)) { Rdma = new RdmaHandle(ctx, _machine), Dpu = new DpuHandle(ctx, () => DpuAgent?.Value), Blk = new BlkHandle(ctx, _machine) };

    /// <summary>The run's DPU agent, made on first use (the <c>dpu</c> handle and <c>--dpu-listen</c> share it).</summary>
    public Lazy<NicScript.Host.Dpu.DpuAgent>? DpuAgent { get; set; }

    /// <summary>A V-Node stopped: its channels close, its DMA memory is reclaimed, its name is free again.</summary>
    public int Release(VNodeContext ctx)
    {
        ctx.RunReleasers();
        Ipc.StopAll(ctx);
        Directory.Remove(ctx);
        return _machine.Dma.Reclaim(ctx.DmaOwner);
    }
}
