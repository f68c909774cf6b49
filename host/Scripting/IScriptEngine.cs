using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting;

/// <summary>One V-Node's script in one language: runs the top level, then handler calls, each under the budget.</summary>
/// <remarks>
/// Not thread-safe: a V-Node's loop calls it from its one thread. Never prints and never throws for a script's
/// failure: every call returns a <see cref="ScriptOutcome"/> for the caller to report.
/// </remarks>
public interface IScriptEngine : IDisposable
{
    ScriptLanguage Language { get; }

    /// <summary>The script file this engine runs.</summary>
    string ScriptPath { get; }

    /// <summary>Runs the script's top level with <paramref name="globals"/> as its world.</summary>
    ScriptOutcome Run(VNodeGlobals globals);

    /// <summary>Calls a handler the script registered (an interrupt, an IPC message, a timer) under the budget.</summary>
    /// <param name="firstCall">The handler's first call: it gets the start-up allowance, as the top level does.</param>
    ScriptOutcome Invoke<TState>(Action<TState> call, TState state, bool firstCall = false);
}
