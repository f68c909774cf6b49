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
                string shown = DisplayPath.Of(rt.EntrypointPath);
                string source = ReadScript(rt.EntrypointPath, out ScriptProblem? unreadable) ?? throw new ScriptCheckException([unreadable!]);
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
            ScriptLanguage.JavaScript => ReadScript(rt.EntrypointPath, out ScriptProblem? unreadable) is not { } source ? [unreadable!]
                : JavaScriptEngine.Check(DisplayPath.Of(rt.EntrypointPath), source) is { } p ? [p] : [],
            _ => CSharpEngine.Check(rt.EntrypointPath),
        };
    }

    /// <summary>The script's text through <see cref="InputFile"/>, or null and the problem that says why not.</summary>
    internal static string? ReadScript(string path, out ScriptProblem? problem)
    {
        problem = null;
        try
        {
            return InputFile.ReadText(path, InputFile.MaxScriptBytes, "scripts");
        }
        catch (InputFileException e)
        {
            problem = new ScriptProblem(SourceSpan.None(DisplayPath.Of(path)), e.Reason);
            return null;
        }
    }
}
