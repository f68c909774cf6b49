using System.Text.Json.Nodes;
using NicScript.Host.Manifests;
using NicScript.Host.Scripting;
using Spectre.Console;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript check</c>: validates manifests, compiles and sandbox-checks scripts, runs nothing, lists every problem.</summary>
public sealed class CheckCommand
{
    private readonly CliContext _cli;

    public CheckCommand(CliContext cli) => _cli = cli;

    /// <returns>0 when there is no error (warnings allowed), 1 otherwise.</returns>
    public int Execute(CheckOptions options)
    {
        RunCommand.CheckCacheFolder(options.CacheDirectory);
        // Every file in one pass: the system file, each member manifest and the machine file (RunTarget.Collect), then the
        // script of every manifest that loaded — also when another file has errors — sorted by file, line and column.
        RunTarget.LoadResult loaded = RunTarget.Collect(options.Target);
        RunTarget? target = loaded.Target;
        var problems = new List<ManifestProblem>(loaded.Problems);
        var engines = new ScriptEngineFactory(options.CacheDirectory);
        foreach (VNodeManifest vnode in loaded.Loaded)
            problems.AddRange(engines.Check(vnode).Select(p => new ManifestProblem(p.At, p.Message, ProblemSeverity.Error)));
        var lines = ManifestProblem.InReadingOrder(problems).Select(Row).ToList();

        int errors = lines.Count(l => l.Severity == "error");
        if (options.Json)
        {
            var array = new JsonArray();
            foreach (var (at, severity, message) in lines)
                array.Add(new JsonObject { ["at"] = at, ["severity"] = severity, ["message"] = message });
            _cli.OutputText.WriteLine(CliJson.Text(new JsonObject { ["target"] = options.Target, ["ok"] = errors == 0, ["problems"] = array }));
        }
        else
        {
            foreach (var (at, severity, message) in lines) _cli.Error.WriteLine($"{at}: {severity}: {message}");
            if (errors == 0) _cli.OutputText.WriteLine($"{options.Target}: ok" + (target is null ? "" : $" ({target.VNodes.Length} V-Node(s) checked)"));
        }
        return errors == 0 ? 0 : 1;
    }

    private static (string At, string Severity, string Message) Row(ManifestProblem p) =>
        (p.At.ToString(), p.Severity == ProblemSeverity.Error ? "error" : "warning", p.Message);
}
