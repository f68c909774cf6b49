using NicScript.Host.Manifests;
using NicScript.Host.Scripting.CSharp;
using NicScript.Host.Scripting.JavaScript;

namespace NicScript.Host.Scripting;

/// <summary>Makes the engine a manifest's entrypoint needs, compiled and checked, with the manifest's budget.</summary>
public sealed class ScriptEngineFactory
{
    private readonly string? _cacheDirectory;

    /// <param name="cacheDirectory">Where compiled C# scripts are kept; null for the user's cache folder.</param>
    public ScriptEngineFactory(string? cacheDirectory = null) => _cacheDirectory = cacheDirectory;

    /// <exception cref="ScriptCheckException">The script does not compile or the sandbox refuses it.</exception>
    public IScriptEngine Create(VNodeManifest manifest, CancellationToken stopping)
    {
        RuntimeSpec rt = manifest.Runtime;
        ScriptBudget budget = ScriptBudget.ForManifest(rt.MaxCpuShare, rt.RequiredMemMb);
        switch (rt.Language)
        {
            case ScriptLanguage.JavaScript:
                string source = ReadScript(rt.EntrypointPath);
                string shown = DisplayPath.Of(rt.EntrypointPath);
                if (JavaScriptEngine.Check(shown, source) is { } problem) throw new ScriptCheckException([problem]);
                return new JavaScriptEngine(shown, source, budget, stopping);
            case ScriptLanguage.CSharp:
                return CSharpEngine.Create(rt.EntrypointPath, budget, _cacheDirectory, stopping);
            default:
                throw new UserErrorException($"{manifest.Path}: unknown script language {rt.Language}");
        }
    }

    /// <summary>Every problem of the manifest's script, without running it.</summary>
    public IReadOnlyList<ScriptProblem> Check(VNodeManifest manifest)
    {
        RuntimeSpec rt = manifest.Runtime;
        return rt.Language switch
        {
            ScriptLanguage.JavaScript => JavaScriptEngine.Check(DisplayPath.Of(rt.EntrypointPath), ReadScript(rt.EntrypointPath)) is { } p ? [p] : [],
            _ => CSharpEngine.Check(rt.EntrypointPath),
        };
    }

    internal static string ReadScript(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"{path}: cannot read script: {e.Message}");
        }
    }
}
