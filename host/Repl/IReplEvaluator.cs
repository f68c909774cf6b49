using NicScript.Host.Manifests;
using NicScript.Host.Scripting;

namespace NicScript.Host.Repl;

/// <summary>One language's side of the REPL: persistent state across inputs, incomplete-input detection, completion.</summary>
/// <remarks>Called on the REPL V-Node's loop thread only, like an engine.</remarks>
public interface IReplEvaluator : IDisposable
{
    ScriptLanguage Language { get; }

    /// <summary>True when the input is not finished (the REPL reads another line).</summary>
    bool IsIncomplete(string code);

    /// <summary>Evaluates one input in the session's state, under the budget.</summary>
    ScriptOutcome Evaluate(string code);

    /// <summary>Calls a handler registered at the prompt (an interrupt, a message, a timer) under the budget.</summary>
    ScriptOutcome Invoke<TState>(Action<TState> call, TState state);

    /// <summary>Variables the session has defined (for completion).</summary>
    IEnumerable<string> Variables { get; }

    /// <summary>The member names of what <paramref name="owner"/> (a dotted path, <c>nic</c>) is in the session, for Tab
    /// after <paramref name="line"/> (the input up to the cursor); null when it cannot be told without running code.</summary>
    IReadOnlyList<string>? Members(string line, string owner);
}
