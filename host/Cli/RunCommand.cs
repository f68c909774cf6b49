using System.Text.Json;
using System.Text.Json.Nodes;
using NicScript.Driver;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Spectre.Console;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript run</c>: loads a manifest or system, runs its V-Nodes on a machine, reports what they did.</summary>
public sealed class RunCommand
{
    private readonly CliContext _cli;

    public RunCommand(CliContext cli) => _cli = cli;

    /// <returns>0 when every V-Node completed (or was stopped at the duration), 1 otherwise.</returns>
    public async Task<int> ExecuteAsync(RunOptions options, CancellationToken cancel)
    {
        RunTarget target = RunTarget.Load(options.Target);
        using var log = _cli.CreateLogger(options.LogLevel, options.LogFile);
        foreach (ManifestProblem w in target.Warnings) _cli.Error.WriteLine(w.ToString());

        string? machineFile = options.MachineFile ?? (target.Document as SystemManifest)?.MachinePath;
        MachineSpec? spec = machineFile is null ? null : MachineFileParser.Load(machineFile);
        FaultSettings? faults = options.Faults is null ? null : MachineFileParser.ParseFaults(options.Faults);
        var (machine, owned) = MachineFactory.Build(spec, options.Wire, options.Pcap, faults, new DeviceEventLog(log));
        using var ownedScope = new DisposeAll(owned); // disposed after the machine: the machine flushes its wires first
        using var machineScope = machine;
        using var audit = new AuditLog(log, options.AuditFile);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(options.CacheDirectory));
        RunReport report = await runner.RunAsync(target.Name, target.VNodes, machine, audit, options.Duration, cancel);

        if (options.Json)
        {
            JsonObject json = ToJson(report);
            // Whether this process needed Roslyn at all: false on a warm start, where every C# script came from the cache.
            json["roslyn_loaded"] = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Microsoft.CodeAnalysis");
            _cli.OutputText.WriteLine(json.ToJsonString());
        }
        else Print(report);
        foreach (VNodeReport v in report.VNodes.Where(v => v.Status == VNodeStatus.Failed))
            _cli.Error.WriteLine($"{v.Error}");
        return report.Succeeded ? 0 : 1;
    }

    private sealed class DisposeAll(IReadOnlyList<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable d in items) d.Dispose();
        }
    }

    private void Print(RunReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(report.Target)}[/] ({report.Elapsed.TotalMilliseconds:0} ms)");
        table.AddColumns("V-Node", "status", "result", "handler calls", "metrics");
        foreach (VNodeReport v in report.VNodes)
        {
            string status = v.Status switch
            {
                VNodeStatus.Failed => "[red]failed[/]",
                VNodeStatus.Cancelled => "[yellow]cancelled[/]",
                VNodeStatus.Stopped => "[green]stopped[/]",
                _ => "[green]completed[/]",
            };
            string metrics = string.Join("\n", v.Metrics.Select(DescribeMetric));
            table.AddRow(Markup.Escape(v.Name), status, Markup.Escape(v.Error ?? Describe(v.Result)),
                v.HandlerCalls.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(metrics));
        }
        _cli.Output.Write(table);
        if (report.Denials.Count > 0)
            _cli.Output.MarkupLine($"[yellow]{report.Denials.Count} capability denial(s)[/]: {Markup.Escape(string.Join("; ", report.Denials.Select(d => d.Reason).Distinct()))}");
    }

    private static string DescribeMetric(Metric m) => m.Kind switch
    {
        MetricKind.Histogram => $"{m.Name}: n={m.Count} p50≤{m.Quantile(0.5):0} p99≤{m.Quantile(0.99):0}",
        MetricKind.Unused => $"{m.Name}: -",
        _ => $"{m.Name}: {m.Value:0.###}",
    };

    private static string Describe(object? value) => value switch
    {
        null => "",
        string s => s,
        _ => JsonValueOf(value)?.ToJsonString() ?? value.ToString() ?? "",
    };

    internal static JsonObject ToJson(RunReport report)
    {
        var vnodes = new JsonArray();
        foreach (VNodeReport v in report.VNodes)
        {
            var metrics = new JsonObject();
            foreach (Metric m in v.Metrics)
            {
                var o = new JsonObject { ["kind"] = m.Kind.ToString().ToLowerInvariant(), ["value"] = m.Value };
                if (m.Kind == MetricKind.Histogram)
                {
                    o["count"] = m.Count;
                    o["sum"] = m.Sum;
                    o["p50"] = m.Quantile(0.5);
                    o["p99"] = m.Quantile(0.99);
                }
                metrics[m.Name] = o;
            }
            vnodes.Add(new JsonObject
            {
                ["name"] = v.Name,
                ["script"] = v.Script,
                ["status"] = v.Status.ToString().ToLowerInvariant(),
                ["error"] = v.Error,
                ["result"] = JsonValueOf(v.Result),
                ["handler_calls"] = v.HandlerCalls,
                ["metrics"] = metrics,
            });
        }
        var denials = new JsonArray();
        foreach (CapabilityDenial d in report.Denials)
            denials.Add(new JsonObject
            {
                ["vnode"] = d.VNode,
                ["capability"] = d.Capability,
                ["requested"] = d.Requested,
                ["script"] = d.At.File,
                ["line"] = d.At.Line,
                ["column"] = d.At.Column,
                ["reason"] = d.Reason,
            });
        return new JsonObject
        {
            ["target"] = report.Target,
            ["ok"] = report.Succeeded,
            ["elapsed_ms"] = Math.Round(report.Elapsed.TotalMilliseconds, 3),
            ["vnodes"] = vnodes,
            ["denials"] = denials,
        };
    }

    private static JsonNode? JsonValueOf(object? value)
    {
        if (value is null) return null;
        try
        {
            return JsonSerializer.SerializeToNode(value, value.GetType());
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or JsonException)
        {
            return JsonValue.Create(value.ToString());
        }
    }
}
