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
        Finite(name, delta);
        if (!Find(name).TryInc(delta)) throw KindMismatch(name, "counter (inc with a delta >= 0)");
    }

    /// <summary>Sets a gauge.</summary>
    [ScriptApi]
    public void Set(string name, double value)
    {
        Finite(name, value);
        if (!Find(name).TrySet(value)) throw KindMismatch(name, "gauge (set)");
    }

    /// <summary>Adds one observation to a histogram.</summary>
    [ScriptApi]
    public void Observe(string name, double value)
    {
        Finite(name, value);
        if (!Find(name).TryObserve(value)) throw KindMismatch(name, "histogram (observe)");
    }

    /// <summary>A counter's or gauge's value, or a histogram's count.</summary>
    [ScriptApi] public double Get(string name) => Find(name).Value;

    /// <remarks>
    /// Design: NaN and ±Infinity are refused at the call, as the script's error with its line: a metric that is not a
    /// number says nothing a reader can use, and the mistake is the script's. A value can still overflow to +Inf from
    /// finite updates (1e308 twice); the outputs write that as Prometheus does (<c>+Inf</c>) and JSON as null.
    /// </remarks>
    private void Finite(string name, double value)
    {
        Find(name); // an undeclared name is a denial first
        if (!double.IsFinite(value)) throw new ScriptCallException($"metric '{name}': {Describe(value)} is not a finite number");
    }

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";

    private Metric Find(string name)
    {
        if (_ctx.Metrics.TryGet(name, out Metric m)) return m;
        throw _ctx.Deny("observability.metrics", name, $"metric '{name}' is not declared in {Path.GetFileName(_ctx.Manifest.Path)} observability.metrics of {_ctx.Name}");
    }

    private ScriptCallException KindMismatch(string name, string wanted) =>
        new($"metric '{name}' is a {Find(name).Kind.ToString().ToLowerInvariant()}; it cannot be used as a {wanted}");
}
