namespace NicScript.Host.Capabilities;

/// <summary>The <c>metrics</c> global: updates only the metrics the manifest's <c>observability.metrics</c> declares.</summary>
public sealed class MetricsHandle
{
    private readonly VNodeContext _ctx;

    public MetricsHandle(VNodeContext ctx) => _ctx = ctx;

    /// <summary>The declared names.</summary>
    [ScriptApi] public string[] Names => _ctx.Metrics.Declared.ToArray();

    /// <summary>Adds <paramref name="delta"/> (≥ 0) to a counter.</summary>
    [ScriptApi]
    public void Inc(string name, double delta = 1)
    {
        if (!Find(name).TryInc(delta)) throw KindMismatch(name, "counter (inc with a delta >= 0)");
    }

    /// <summary>Sets a gauge.</summary>
    [ScriptApi]
    public void Set(string name, double value)
    {
        if (!Find(name).TrySet(value)) throw KindMismatch(name, "gauge (set)");
    }

    /// <summary>Adds one observation to a histogram.</summary>
    [ScriptApi]
    public void Observe(string name, double value)
    {
        if (!Find(name).TryObserve(value)) throw KindMismatch(name, "histogram (observe)");
    }

    /// <summary>A counter's or gauge's value, or a histogram's count.</summary>
    [ScriptApi] public double Get(string name) => Find(name).Value;

    private Metric Find(string name)
    {
        if (_ctx.Metrics.TryGet(name, out Metric m)) return m;
        throw _ctx.Deny("observability.metrics", name, $"metric '{name}' is not declared in {Path.GetFileName(_ctx.Manifest.Path)} observability.metrics of {_ctx.Name}");
    }

    private ScriptCallException KindMismatch(string name, string wanted) =>
        new($"metric '{name}' is a {Find(name).Kind.ToString().ToLowerInvariant()}; it cannot be used as a {wanted}");
}
