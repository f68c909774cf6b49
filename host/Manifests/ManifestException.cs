using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>Files that cannot be used; <see cref="Problems"/> lists every problem found (errors and warnings), and the
/// message is every error, one <c>file:line:col: error: …</c> per line, so a command that prints it shows them all.</summary>
public sealed class ManifestException : UserErrorException
{
    public ManifestException(ImmutableArray<ManifestProblem> problems)
        : base(Describe(problems))
        => Problems = problems;

    public ImmutableArray<ManifestProblem> Problems { get; }

    private static string Describe(ImmutableArray<ManifestProblem> problems)
    {
        var errors = problems.Where(p => p.Severity == ProblemSeverity.Error).Select(p => p.ToString()).ToList();
        return errors.Count == 0 ? "invalid manifest" : string.Join('\n', errors);
    }
}
