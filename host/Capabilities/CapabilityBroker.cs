using NicScript.Driver;
using NicScript.Driver.Pci;
using NicScript.Host.Families;
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
        // DMA faults of devices this V-Node's drivers program are audited under its name
        var owner = _machine.Dma.CreateOwner(manifest.Name, manifest.Runtime.RequiredMemMb * 1024L * 1024L, _audit.DmaFaultsOf(manifest.Name));
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
        new NetHandle(ctx, _machine)) { Families = [.. DeviceFamilies.Handles.Select(h => h.Make(ctx, _machine, this))] };

    /// <summary>The services families keep for the run (the DPU's agent), which their handles find here; none in a REPL session.</summary>
    public RunServices Services { get; init; } = new();

    /// <summary>A V-Node stopped: its channels close, no device reaches its memory any more, its DMA memory is reclaimed,
    /// its name is free again.</summary>
    public int Release(VNodeContext ctx)
    {
        ctx.RunReleasers();
        Ipc.StopAll(ctx);
        Directory.Remove(ctx);
        // Every domain, not only those it opened: a driver it brought up (net.open, blk.open, rdma) attached on its own.
        foreach (PciFunction f in _machine.Pci.Functions) f.Dma?.Evict(ctx.DmaOwner);
        foreach (var d in ctx.AttachedDomains()) d.Evict(ctx.DmaOwner); // hot-removed functions too
        return _machine.Dma.Reclaim(ctx.DmaOwner);
    }
}
