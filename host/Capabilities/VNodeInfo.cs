using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>vnode</c> global: this V-Node's own name, version, mode and grants.</summary>
public sealed class VNodeInfo
{
    private readonly VNodeContext _ctx;
    private readonly ScriptTimers _timers;

    public VNodeInfo(VNodeContext ctx)
    {
        _ctx = ctx;
        _timers = new ScriptTimers(ctx);
    }

    internal VNodeContext Context => _ctx;

    /// <summary>Stops this V-Node as failed with <paramref name="reason"/> — also from a promise callback, where a throw only rejects.</summary>
    [ScriptApi]
    public void Fail(string reason)
    {
        _ctx.FailedBy ??= reason;
        throw new UserErrorException(reason);
    }

    /// <summary>Calls <paramref name="handler"/> once on this V-Node's loop after <paramref name="ms"/> milliseconds; returns the timer's id.</summary>
    [ScriptApi] public int After(double ms, Action handler) => _timers.Start(ms, handler, repeat: false);

    /// <summary>Calls <paramref name="handler"/> on this V-Node's loop every <paramref name="ms"/> milliseconds (at least 1) until cancelled.</summary>
    [ScriptApi] public int Every(double ms, Action handler) => _timers.Start(ms, handler, repeat: true);

    /// <summary>Stops a timer; false if it already fired (one-shot) or was cancelled.</summary>
    [ScriptApi] public bool Cancel(int timer) => _timers.Cancel(timer);

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
    /// <summary>CPU nanoseconds this V-Node's loop thread has used: what its budget counts (a benchmark's per-CPU rate).</summary>
    [ScriptApi] public double CpuNs => NicScript.Host.Scripting.ThreadCpuClock.ReadCurrentThreadNs();

    [ScriptApi] public double NowNs => System.Diagnostics.Stopwatch.GetTimestamp() * (1e9 / System.Diagnostics.Stopwatch.Frequency);

    public override string ToString() => $"{Name} {Version}";
}
