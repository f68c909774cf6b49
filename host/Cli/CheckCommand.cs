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
        var lines = new List<(string At, string Severity, string Message)>();
        RunTarget? target = null;
        try
        {
            target = RunTarget.Load(options.Target);
            lines.AddRange(target.Warnings.Select(Row));
        }
        catch (ManifestException e)
        {
            lines.AddRange(e.Problems.Select(Row));
        }

        if (target is not null)
        {
            var engines = new ScriptEngineFactory(options.CacheDirectory);
            foreach (VNodeManifest vnode in target.VNodes)
                lines.AddRange(engines.Check(vnode).Select(p => (p.At.ToString(), "error", p.Message)));
        }

        int errors = lines.Count(l => l.Severity == "error");
        if (options.Json)
        {
            var problems = new JsonArray();
            foreach (var (at, severity, message) in lines)
                problems.Add(new JsonObject { ["at"] = at, ["severity"] = severity, ["message"] = message });
            _cli.OutputText.WriteLine(CliJson.Text(new JsonObject { ["target"] = options.Target, ["ok"] = errors == 0, ["problems"] = problems }));
        }
        else
        {
            foreach (var (at, severity, message) in lines) _cli.Error.WriteLine($"{at}: {severity}: {message}");
            if (errors == 0) _cli.OutputText.WriteLine($"{options.Target}: ok" + (target is null ? "" : $" ({target.VNodes.Length} V-Node(s) checked)"));
        }
        return errors == 0 ? 0 : 1;
    }

    private static (string, string, string) Row(ManifestProblem p) =>
        (p.At.ToString(), p.Severity == ProblemSeverity.Error ? "error" : "warning", p.Message);
}
