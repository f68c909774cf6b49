using NicScript.Host.Capabilities;

namespace NicScript.Host.Runtime;

/// <summary>The name a declared metric is exported under in Prometheus text, and how its values become that name's
/// base unit (multiplied by <see cref="Multiply"/>, divided by <see cref="Divide"/>).</summary>
/// <remarks>
/// Design: a manifest names metrics the way its script counts (<c>irq_latency_ns</c>, <c>offered_bytes_per_s</c>,
/// <c>packets_rx</c>); Prometheus's conventions (and <c>promtool check metrics</c>) want base units and a <c>_total</c>
/// counter. The script and <c>run --json</c> keep the declared name and value; only the exposition is renamed. Each
/// <c>_</c>-separated word that is a time or size unit — abbreviated (<c>ns us ms s sec min h d</c>, <c>b kb mb gb
/// tb</c>) or spelled out (<c>nanoseconds</c> … <c>days</c>, <c>kilobytes</c> … <c>terabytes</c>, <c>bits</c>) —
/// becomes <c>seconds</c> or <c>bytes</c>, and the value is scaled by the unit's size in the base unit, inversely after
/// <c>per</c> (a rate: 5 per ms is 5000 <c>per_second</c>). <c>m</c> is left alone: minutes and metres cannot be told
/// apart. A counter then ends in <c>_total</c> unless it already does. Scales are kept as two exact integers so that
/// 1024 ns is exported as 1.024e-06 s, not 1.0240000000000001e-06.
/// </remarks>
public sealed record PrometheusName(string Declared, string Exported, double Multiply, double Divide, string? Conversion)
{
    private static readonly Dictionary<string, (string Base, double Multiply, double Divide, string Word)> Units = new(StringComparer.Ordinal)
    {
        ["ns"] = ("seconds", 1, 1e9, "nanoseconds"), ["nanoseconds"] = ("seconds", 1, 1e9, "nanoseconds"),
        ["us"] = ("seconds", 1, 1e6, "microseconds"), ["microseconds"] = ("seconds", 1, 1e6, "microseconds"),
        ["ms"] = ("seconds", 1, 1e3, "milliseconds"), ["milliseconds"] = ("seconds", 1, 1e3, "milliseconds"),
        ["s"] = ("seconds", 1, 1, "seconds"), ["sec"] = ("seconds", 1, 1, "seconds"), ["secs"] = ("seconds", 1, 1, "seconds"),
        ["min"] = ("seconds", 60, 1, "minutes"), ["minutes"] = ("seconds", 60, 1, "minutes"),
        ["h"] = ("seconds", 3600, 1, "hours"), ["hours"] = ("seconds", 3600, 1, "hours"),
        ["d"] = ("seconds", 86400, 1, "days"), ["days"] = ("seconds", 86400, 1, "days"),
        ["b"] = ("bytes", 1, 1, "bytes"), ["bits"] = ("bytes", 1, 8, "bits"),
        ["kb"] = ("bytes", 1e3, 1, "kilobytes"), ["kilobytes"] = ("bytes", 1e3, 1, "kilobytes"),
        ["mb"] = ("bytes", 1e6, 1, "megabytes"), ["megabytes"] = ("bytes", 1e6, 1, "megabytes"),
        ["gb"] = ("bytes", 1e9, 1, "gigabytes"), ["gigabytes"] = ("bytes", 1e9, 1, "gigabytes"),
        ["tb"] = ("bytes", 1e12, 1, "terabytes"), ["terabytes"] = ("bytes", 1e12, 1, "terabytes"),
    };

    /// <summary>The exported name of <paramref name="declared"/> once its first update made it a <paramref name="kind"/>.</summary>
    public static PrometheusName For(string declared, MetricKind kind)
    {
        string[] words = declared.Split('_');
        double multiply = 1, divide = 1;
        var from = new List<string>();
        var to = new List<string>();
        for (int i = 0; i < words.Length; i++)
        {
            if (!Units.TryGetValue(words[i], out var unit)) continue;
            bool perUnit = i > 0 && words[i - 1] == "per";
            (multiply, divide) = perUnit ? (multiply * unit.Divide, divide * unit.Multiply) : (multiply * unit.Multiply, divide * unit.Divide);
            if (unit.Word != unit.Base) // "s" and "b" are only spelled out
            {
                from.Add(perUnit ? "per " + Singular(unit.Word) : unit.Word);
                to.Add(perUnit ? "per " + Singular(unit.Base) : unit.Base);
            }
            words[i] = perUnit ? Singular(unit.Base) : unit.Base;
        }
        string exported = string.Join('_', words);
        if (kind == MetricKind.Counter && !exported.EndsWith("_total", StringComparison.Ordinal)) exported += "_total";
        string? conversion = from.Count == 0 ? null : $"{string.Join(' ', from)} converted to {string.Join(' ', to)}";
        return new PrometheusName(declared, exported, multiply, divide, conversion);
    }

    /// <summary><paramref name="value"/> (as the script gave it) in the exported name's unit.</summary>
    public double Convert(double value) => Multiply == 1 && Divide == 1 ? value : value * Multiply / Divide;

    private static string Singular(string unitWord) => unitWord.EndsWith('s') ? unitWord[..^1] : unitWord;
}
