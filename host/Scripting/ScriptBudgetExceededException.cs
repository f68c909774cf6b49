namespace NicScript.Host.Scripting;

/// <summary>An invocation ran past its CPU slice, memory or stack, or was cancelled. Not a <see cref="UserErrorException"/>:
/// JavaScript cannot catch it, and C# catching it only meets it again at the next check.</summary>
public sealed class ScriptBudgetExceededException : Exception
{
    public ScriptBudgetExceededException(string message, bool cancelled) : base(message) => Cancelled = cancelled;

    public bool Cancelled { get; }
}
