namespace NicScript.Host.Scripting;

/// <summary>What running a script (or one handler) came to. Engines return it; the loop and the CLI report it.</summary>
public abstract record ScriptOutcome
{
    public sealed record Completed(object? Value) : ScriptOutcome;

    /// <summary>A one-line reason at a place in the script: <c>net.csx:12:9: reason</c>.</summary>
    public sealed record Failed(SourceSpan At, string Reason) : ScriptOutcome
    {
        public override string ToString() => $"{At}: {Reason}";
    }

    public sealed record Cancelled : ScriptOutcome;
}
