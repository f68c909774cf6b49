using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.CSharp;

// Placeholder until the C# engine branch lands; replaced at merge.
public sealed class CSharpEngine : IScriptEngine
{
    public static IScriptEngine Create(string path, ScriptBudget budget, string? cacheDirectory, CancellationToken stopping) =>
        throw new UserErrorException($"{path}: C# engine not merged yet");
    public static IReadOnlyList<ScriptProblem> Check(string path, string? cacheDirectory) => [];
    public ScriptLanguage Language => ScriptLanguage.CSharp;
    public string ScriptPath => "";
    public ScriptOutcome Run(VNodeGlobals globals) => throw new NotSupportedException();
    public ScriptOutcome Invoke<TState>(Action<TState> call, TState state) => throw new NotSupportedException();
    public void Dispose() { }
}
