namespace NicScript.Host.Scripting;

/// <summary>Why a script cannot run: a compile error or a sandbox refusal, at its place.</summary>
public sealed record ScriptProblem(SourceSpan At, string Message)
{
    public override string ToString() => $"{At}: error: {Message}";
}
