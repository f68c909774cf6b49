using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>A manifest that cannot be used; <see cref="Problems"/> lists every error found, the message is the first.</summary>
public sealed class ManifestException : UserErrorException
{
    public ManifestException(ImmutableArray<ManifestProblem> problems)
        : base(problems.FirstOrDefault(p => p.Severity == ProblemSeverity.Error)?.ToString() ?? "invalid manifest")
        => Problems = problems;

    public ImmutableArray<ManifestProblem> Problems { get; }
}
