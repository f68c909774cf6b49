using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>Files that cannot be used; <see cref="Problems"/> lists every problem found (errors and warnings).</summary>
/// <remarks>The message is the first error, or — with <c>everyError</c>, as <see cref="RunTarget.Load"/> throws it for
/// <c>run</c> — every error, one <c>file:line:col: error: …</c> a line, so the command that prints it shows them all.</remarks>
public sealed class ManifestException : UserErrorException
{
    public ManifestException(ImmutableArray<ManifestProblem> problems, bool everyError = false)
        : base(Describe(problems, everyError))
        => Problems = problems;

    public ImmutableArray<ManifestProblem> Problems { get; }

    private static string Describe(ImmutableArray<ManifestProblem> problems, bool everyError)
    {
        var errors = problems.Where(p => p.Severity == ProblemSeverity.Error).Select(p => p.ToString()).ToList();
        return errors.Count == 0 ? "invalid manifest" : everyError ? string.Join('\n', errors) : errors[0];
    }
}
