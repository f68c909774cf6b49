using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>vnode</c> global: this V-Node's own name, version, mode and grants.</summary>
public sealed class VNodeInfo
{
    private readonly VNodeContext _ctx;

    public VNodeInfo(VNodeContext ctx) => _ctx = ctx;

    [ScriptApi] public string Name => _ctx.Name;

    [ScriptApi] public string Version => _ctx.Manifest.Version;

    [ScriptApi] public string Mode => _ctx.Manifest.Mode == ManifestMode.Strict ? "strict" : "permissive";

    [ScriptApi] public int RequiredMemMb => _ctx.Manifest.Runtime.RequiredMemMb;

    [ScriptApi] public double MaxCpuShare => _ctx.Manifest.Runtime.MaxCpuShare;

    /// <summary>Each grant in manifest form, e.g. <c>CAP_IRQ_REGISTER 11</c>.</summary>
    [ScriptApi] public string[] Grants => _ctx.Manifest.Capabilities.Select(g => g.ToString()).ToArray();

    /// <summary>True when the manifest grants the capability named (bare name, e.g. <c>CAP_DMA_ALLOC</c>).</summary>
    [ScriptApi]
    public bool Has(string capability) =>
        CapabilityNames.TryParse(capability, out CapabilityKind kind) && _ctx.Manifest.Grants(kind);

    /// <summary>A setting from the manifest's <c>settings:</c> (or the system file's entry), or <paramref name="fallback"/>.</summary>
    [ScriptApi]
    public string Setting(string name, string fallback = "") => _ctx.Manifest.Settings.TryGetValue(name, out string? v) ? v : fallback;

    /// <summary>A monotonic clock in nanoseconds (for timestamps and measuring; not wall time).</summary>
    [ScriptApi] public double NowNs => System.Diagnostics.Stopwatch.GetTimestamp() * (1e9 / System.Diagnostics.Stopwatch.Frequency);

    public override string ToString() => $"{Name} {Version}";
}
