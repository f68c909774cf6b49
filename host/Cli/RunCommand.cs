using System.Text.Json;
using System.Text.Json.Nodes;
using NicScript.Driver;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;
using NicScript.Host.Families;
using NicScript.Host.Guests;
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
        // Every file and option is read and checked before anything is made: a log file, a TAP device, a capture, a
        // family's service (the DPU's state), a listening socket. A mistake in the last option leaves nothing behind.
        RunTarget target = RunTarget.Load(options.Target, options.MachineFile); // every error of every file at once, machine file included
        MachineSpec? spec = target.Machine;
        FaultSettings? faults = options.Faults is null ? null : MachineFileParser.ParseFaults(options.Faults);
        CheckOptions(options, spec);
        List<ExportOption> exports = ExportOption.All(options.Exports, spec);
        if (options.Trace is not null && exports.Count == 0) throw new UserErrorException("--trace records what a guest does to an exported function: give --export too");
        PeerSpec? peerSpec = (target.Document as SystemManifest)?.Peer;
        bool withPeer = peerSpec is not null && spec is null && options.Wire is null or "loopback";

        using var log = _cli.CreateLogger(options.LogLevel, options.LogFile);
        foreach (ManifestProblem w in target.Warnings) _cli.Error.WriteLine(w.ToString());
        var (machine, owned) = MachineFactory.Build(spec, withPeer ? "peer" : options.Wire, options.Pcap, faults, new DeviceEventLog(log), [.. exports.Select(e => e.Address)]);
        using var ownedScope = new DisposeAll(owned); // disposed after the machine: the machine flushes its wires first
        using var machineScope = machine;
        using GuestExports guests = GuestExports.Start(machine, exports, [.. DeviceFamilies.All.SelectMany(f => f.HotAddSlots(spec))], options.Trace, _cli.Error); // stopped before the machine
        using var audit = new AuditLog(log, options.AuditFile);
        await using var services = new RunServices(); // the families' (the DPU agent and its server): disposed after the exporter below
        var runner = new VNodeRunner(log, new ScriptEngineFactory(options.CacheDirectory)) { RestartLimit = options.Restarts, Services = services };
        var run = new FamilyRun(machine, spec, log, _cli.Error);
        foreach (FamilyRunOptions family in options.Families ?? []) services.Add(await family.OpenAsync(run).ConfigureAwait(false));
        using PrometheusExporter? exporter = options.MetricsListen is { } listen ? new PrometheusExporter(listen, () => runner.Live) : null;
        using EchoPeer? peer = withPeer
            ? new EchoPeer(peerSpec!.Ipv4, peerSpec.Target, options.Packets ?? peerSpec.Packets, options.Rate ?? peerSpec.Rate)
            : null;
        peer?.Attach(machine.Links[0]);
        using var progress = peer is not null && !Console.IsErrorRedirected ? new ProgressLine(_cli.Error, peer) : null;
        RunReport report = await runner.RunAsync(target.Name, target.VNodes, machine, audit, options.Duration, cancel,
            peer is null ? null : () => { peer.Start(); progress?.Start(); return peer.Done; });
        progress?.Dispose();
        EchoPeerReport? echo = peer?.Done.IsCompletedSuccessfully == true ? peer.Done.Result : peer is null ? null : new EchoPeerReport(peer.Sent, peer.Received, peer.Sent - peer.Received, 0, 0, true, 0, 0);
        report = report with { Peer = echo };

        var rdma = machine.Rdma.Devices.Where(d => d.TxFrames + d.RxFrames > 0).ToList();
        // functions whose device made DMA faults (accesses outside their IOMMU domain; each one is in the audit log)
        var dmaFaults = machine.Pci.Functions.Where(f => f.Dma is { Faults: > 0 }).Select(f => (f.Address, f.Dma!.Faults)).ToList();
        if (options.Json)
        {
            JsonObject json = ToJson(report);
            if (rdma.Count > 0)
            {
                var devices = new JsonArray();
                foreach (var d in rdma)
                    devices.Add(new JsonObject
                    {
                        ["gid"] = d.Gid, ["function"] = d.Function.Function.Address.ToString(), ["tx_frames"] = d.TxFrames, ["rx_frames"] = d.RxFrames,
                        ["retransmissions"] = d.Retransmissions, ["rnr_naks"] = d.RnrNaksSent, ["naks"] = d.NaksSent, ["dropped"] = d.RxDropped,
                    });
                json["rdma"] = devices;
            }
            if (dmaFaults.Count > 0)
            {
                var perFunction = new JsonArray();
                foreach (var (address, count) in dmaFaults) perFunction.Add(new JsonObject { ["function"] = address.ToString(), ["dma_faults"] = count });
                json["dma_faults"] = perFunction;
            }
            if (!guests.IsEmpty) json["exports"] = guests.ToJson();
            // Whether this process needed Roslyn at all: false on a warm start, where every C# script came from the cache.
            json["roslyn_loaded"] = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Microsoft.CodeAnalysis");
            _cli.OutputText.WriteLine(CliJson.Text(json));
        }
        else Print(report);
        if (!guests.IsEmpty) // what the guests did to the exported functions, and what the models counted
        {
            var state = new System.Text.StringBuilder();
            guests.AppendState(state);
            foreach (DeviceFamily family in DeviceFamilies.All) family.AppendStats(machine, state);
            _cli.Error.Write(state.ToString());
        }
        foreach (var d in rdma) // what the RDMA engines did: the retransmissions show what a lossy wire cost
            _cli.Error.WriteLine($"rdma {d.Gid} ({d.Function.Function.Address.Short}): sent {d.TxFrames} frames, received {d.RxFrames}, retransmissions {d.Retransmissions}, RNR NAKs {d.RnrNaksSent}, NAKs {d.NaksSent}, dropped {d.RxDropped}");
        foreach (var (address, count) in dmaFaults)
            _cli.Error.WriteLine($"{address}: {count} DMA faults (device accesses outside its IOMMU domain; see the audit log)");
        foreach (VNodeReport v in report.VNodes.Where(v => v.Status == VNodeStatus.Failed))
            _cli.Error.WriteLine($"{v.Error}");
        if (echo is { } e && (e.Lost > 0 || e.Bad > 0 || !e.Resolved))
            _cli.Error.WriteLine($"{target.Name}: the peer lost {e.Lost} of {e.Sent} echo requests" + (e.Bad > 0 ? $", {e.Bad} bad replies" : "") + (e.Resolved ? "" : ", ARP never answered"));
        return report.Succeeded && echo is not { Lost: > 0 } and not { Bad: > 0 } and not { Resolved: false } ? 0 : 1;
    }

    /// <summary>The options' own rules, checked before anything is made (the files were read already).</summary>
    private static void CheckOptions(RunOptions options, MachineSpec? spec)
    {
        if (options.Packets is { } n && n is < 1 or > 65535) throw new UserErrorException($"--packets {n}: 1..65535");
        if (options.Rate is { } rate && !(rate >= 0 && double.IsFinite(rate))) throw new UserErrorException($"--rate {rate}: a number of requests per second >= 0 (0: as fast as replies come)");
        if (options.Restarts is < 0 or > 100) throw new UserErrorException($"--restarts {options.Restarts}: 0..100");
        if (options.Wire is not null && spec is not null) throw new UserErrorException("--wire applies to the default machine; a machine file names its own wires");
        if (options.Wire is { } wire && MachineFactory.WireProblem(wire) is { } problem) throw new UserErrorException($"--wire {wire}: {problem}");
        foreach (FamilyRunOptions family in options.Families ?? []) family.Check();
        if (options.MetricsListen is { } ml) NicScript.Host.Cli.ListenAddress.CheckBindable("--metrics-listen", ml, NicScript.Host.Cli.ListenAddress.Parse("--metrics-listen", ml, loopbackOnly: true, anyPort: false));
        CheckCacheFolder(options.CacheDirectory);
        foreach (var (option, path) in new[] { ("--pcap", options.Pcap), ("--audit", options.AuditFile), ("--log-file", options.LogFile) })
            if (path is not null && (path.Length == 0 || Directory.Exists(path))) throw new UserErrorException($"{option} '{path}': expected a file, not {(path.Length == 0 ? "an empty name" : "a folder")}");
    }

    /// <summary><c>--cache</c> names a folder (made when missing), never a file.</summary>
    internal static void CheckCacheFolder(string? cache)
    {
        if (cache is not null && (cache.Length == 0 || File.Exists(cache)))
            throw new UserErrorException($"--cache '{cache}': expected a folder, not {(cache.Length == 0 ? "an empty name" : "a file")}");
    }

    /// <summary>A line on a terminal that says how the peer is doing while it runs.</summary>
    private sealed class ProgressLine(TextWriter error, EchoPeer peer) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _task;

        public void Start() => _task = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                error.Write($"\r  echo: sent {peer.Sent}/{peer.Packets}, received {peer.Received}   ");
                try { await Task.Delay(200, _stop.Token); } catch (OperationCanceledException) { }
            }
            error.WriteLine($"\r  echo: sent {peer.Sent}/{peer.Packets}, received {peer.Received}   ");
        });

        public void Dispose()
        {
            _stop.Cancel();
            _task?.Wait(TimeSpan.FromSeconds(1));
        }
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
        var table = new ResultTable("V-Node", "status", "result", "handler calls", "metrics")
        {
            Title = $"[bold]{Markup.Escape(report.Target)}[/] ({report.Elapsed.TotalMilliseconds:0} ms)",
        };
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
        _cli.Write(table);
        if (report.Peer is { } p)
            _cli.MarkupLine($"peer: sent [bold]{p.Sent}[/], received [bold]{p.Received}[/], lost [bold]{p.Lost}[/]" +
                (p.Bad > 0 ? $", bad {p.Bad}" : "") + (p.Duplicates > 0 ? $", duplicates {p.Duplicates}" : "") +
                $", round trip p50 {p.RttP50Us:0.0} µs, p99 {p.RttP99Us:0.0} µs");
        if (report.Denials.Count > 0)
            _cli.MarkupLine($"[yellow]{report.Denials.Count} capability denial(s)[/]: {Markup.Escape(string.Join("; ", report.Denials.Select(d => d.Reason).Distinct()))}");
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
        _ => JsonValueOf(value) is { } node ? CliJson.Text(node) : value.ToString() ?? "",
    };

    internal static JsonObject ToJson(RunReport report)
    {
        var vnodes = new JsonArray();
        foreach (VNodeReport v in report.VNodes)
        {
            var metrics = new JsonObject();
            foreach (Metric m in v.Metrics)
            {
                var o = new JsonObject { ["kind"] = m.Kind.ToString().ToLowerInvariant(), ["value"] = Number(m.Value) };
                if (m.Kind == MetricKind.Histogram)
                {
                    o["count"] = m.Count;
                    o["sum"] = Number(m.Sum);
                    o["p50"] = Number(m.Quantile(0.5));
                    o["p99"] = Number(m.Quantile(0.99));
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
                ["restarts"] = v.Restarts,
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
        var root = new JsonObject
        {
            ["target"] = report.Target,
            ["ok"] = report.Succeeded,
            ["elapsed_ms"] = Math.Round(report.Elapsed.TotalMilliseconds, 3),
            ["vnodes"] = vnodes,
            ["denials"] = denials,
        };
        if (report.Peer is { } p)
        {
            root["sent"] = p.Sent;
            root["received"] = p.Received;
            root["lost"] = p.Lost;
            root["bad"] = p.Bad;
            root["duplicates"] = p.Duplicates;
            root["arp_replies"] = p.ArpReplies;
            root["rtt_p50_us"] = Number(Math.Round(p.RttP50Us, 1));
            root["rtt_p99_us"] = Number(Math.Round(p.RttP99Us, 1));
        }
        return root;
    }

    /// <summary>A number for the report: JSON has no NaN or infinity, so a value that is not finite (a sum that overflowed) is null.</summary>
    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>A script's result as JSON: NaN and ±Infinity (JavaScript numbers a script may return) as the strings "NaN", "Infinity".</summary>

    private static JsonNode? JsonValueOf(object? value)
    {
        if (value is null) return null;
        try
        {
            return JsonSerializer.SerializeToNode(value, value.GetType(), CliJson.Options);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or JsonException or ArgumentException)
        {
            return JsonValue.Create(value.ToString());
        }
    }
}
