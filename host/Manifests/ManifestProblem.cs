using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>Something wrong in a manifest, at a place: <c>net-bridge.yml:14:23: error: expected an integer ...</c>.</summary>
public sealed record ManifestProblem(SourceSpan At, string Message, ProblemSeverity Severity)
{
    public override string ToString() => $"{At}: {(Severity == ProblemSeverity.Error ? "error" : "warning")}: {Message}";

    /// <summary>Sorted by file, then line and column. Files keep the order they first appear in (the order they were
    /// read: a system file, then each member manifest it lists, then their scripts); a problem of the whole file
    /// (no line) comes first in its file. Stable: two problems at one place keep their order.</summary>
    public static ImmutableArray<ManifestProblem> InReadingOrder(IEnumerable<ManifestProblem> problems)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = problems.ToList();
        foreach (ManifestProblem p in list) rank.TryAdd(p.At.File, rank.Count);
        return [.. list.OrderBy(p => rank[p.At.File]).ThenBy(p => p.At.Line).ThenBy(p => p.At.Column)];
    }
}
