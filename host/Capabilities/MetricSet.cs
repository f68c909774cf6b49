using System.Collections.Frozen;
using System.Collections.Immutable;

namespace NicScript.Host.Capabilities;

/// <summary>The metrics one V-Node's manifest declares (<c>observability.metrics</c>), and nothing else.</summary>
public sealed class MetricSet
{
    private readonly FrozenDictionary<string, Metric> _byName;

    public MetricSet(ImmutableArray<string> declared)
    {
        Declared = declared;
        _byName = declared.Distinct(StringComparer.Ordinal).ToFrozenDictionary(n => n, n => new Metric(n), StringComparer.Ordinal);
    }

    public ImmutableArray<string> Declared { get; }

    /// <summary>Declared metrics in manifest order.</summary>
    public IEnumerable<Metric> All => Declared.Distinct(StringComparer.Ordinal).Select(n => _byName[n]);

    public bool TryGet(string name, out Metric metric) => _byName.TryGetValue(name, out metric!);
}
