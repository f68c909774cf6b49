using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Host.Manifests;
using Serilog;

namespace NicScript.Host.Capabilities;

/// <summary>What the broker knows of one running V-Node: its manifest, its DMA owner and where denials go.</summary>
public sealed class VNodeContext
{
    private IScriptLocator? _locator;
    private int _keepAlive;

    internal VNodeContext(VNodeManifest manifest, DmaOwner dmaOwner, AuditLog audit, ILogger log, VNodeDirectory directory)
    {
        Manifest = manifest;
        DmaOwner = dmaOwner;
        Audit = audit;
        Log = log.ForContext("VNode", manifest.Name);
        Directory = directory;
        Metrics = new MetricSet(manifest.Metrics);
    }

    public string Name => Manifest.Name;

    public VNodeManifest Manifest { get; }

    public DmaOwner DmaOwner { get; }

    public AuditLog Audit { get; }

    public ILogger Log { get; }

    public VNodeDirectory Directory { get; }

    public MetricSet Metrics { get; }

    /// <summary>Set by the engine that runs this V-Node's script, so denials name the script line.</summary>
    public IScriptLocator? Locator
    {
        get => Volatile.Read(ref _locator);
        set => Volatile.Write(ref _locator, value);
    }

    /// <summary>Registrations that keep the V-Node running after its top level returns (handlers, servers, timers).</summary>
    public int Pending => Volatile.Read(ref _keepAlive);

    internal void KeepAlive(int delta) => Interlocked.Add(ref _keepAlive, delta);

    private readonly List<Action> _releasers = new();

    /// <summary>Work to do when the V-Node stops (disconnect interrupts, ...), registered by its handles.</summary>
    internal void OnRelease(Action release)
    {
        lock (_releasers) _releasers.Add(release);
    }

    private readonly HashSet<object> _releaseKeys = new(ReferenceEqualityComparer.Instance);

    /// <summary>Registers <paramref name="release"/> once per <paramref name="key"/> (e.g. a NIC pool this V-Node received frames of).</summary>
    internal void OnReleaseOnce(object key, Action release)
    {
        lock (_releasers)
        {
            if (_releaseKeys.Add(key)) _releasers.Add(release);
        }
    }

    private readonly HashSet<IommuDomain> _domains = new(ReferenceEqualityComparer.Instance);

    /// <summary>This V-Node opened <paramref name="function"/>: its device may reach what the V-Node owns, borrows or receives,
    /// until the V-Node stops (the broker evicts it from every domain then). Once per function.</summary>
    internal void AttachDma(PciFunction function)
    {
        if (function.Dma is not { } domain) return; // a function that does no DMA (a MANA PF)
        lock (_domains)
        {
            if (_domains.Add(domain)) domain.Attach(DmaOwner); // released by IommuDomain.Evict when the V-Node stops
        }
    }

    /// <summary>The domains this V-Node attached to.</summary>
    internal IommuDomain[] AttachedDomains()
    {
        lock (_domains) return [.. _domains];
    }

    internal void RunReleasers()
    {
        Action[] all;
        lock (_releasers) { all = _releasers.ToArray(); _releasers.Clear(); }
        foreach (Action a in all) a();
    }

    /// <summary>Set by <c>vnode.fail(reason)</c>: the engine reports the V-Node failed after the call that set it.</summary>
    internal string? FailedBy { get; set; }

    /// <summary>Delivers handler calls to this V-Node's loop; set by the runtime when the V-Node starts.</summary>
    public IScriptDispatcher? Dispatcher { get; set; }

    /// <summary>Throws a denial (audited first) unless the manifest grants <paramref name="kind"/>.</summary>
    public void Require(CapabilityKind kind)
    {
        if (!Manifest.Grants(kind)) throw Deny(CapabilityNames.ToName(kind), "");
    }

    /// <summary>Records a denial in the audit log and returns the exception to throw into the script.</summary>
    public CapabilityDeniedException Deny(string capability, string requested, string? reason = null)
    {
        SourceSpan at = Locator?.Locate() ?? SourceSpan.None(Manifest.Runtime.Entrypoint);
        reason ??= requested.Length == 0
            ? $"{capability} not granted to {Name}"
            : $"{capability} {requested} not granted to {Name}";
        var denial = new CapabilityDenial(DateTimeOffset.UtcNow, Name, capability, requested, at, reason);
        Audit.Record(denial);
        return new CapabilityDeniedException(denial);
    }
}
