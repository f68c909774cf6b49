using System.Collections.Immutable;

namespace NicScript.Host.Scripting;

/// <summary>A script that does not compile or that the sandbox refuses; nothing of it ran.</summary>
public sealed class ScriptCheckException : UserErrorException
{
    public ScriptCheckException(IReadOnlyList<ScriptProblem> problems)
        : base(problems.Count == 0 ? "script refused" : problems[0].ToString()) => Problems = [.. problems];

    public ImmutableArray<ScriptProblem> Problems { get; }
}
