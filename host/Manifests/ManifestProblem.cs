namespace NicScript.Host.Manifests;

/// <summary>Something wrong in a manifest, at a place: <c>net-bridge.yml:14:23: error: expected an integer ...</c>.</summary>
public sealed record ManifestProblem(SourceSpan At, string Message, ProblemSeverity Severity)
{
    public override string ToString() => $"{At}: {(Severity == ProblemSeverity.Error ? "error" : "warning")}: {Message}";
}
