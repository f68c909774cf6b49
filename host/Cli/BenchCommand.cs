using System.CommandLine;
using System.Text.Json.Nodes;
using NicScript.Host.Cli.Bench;
using NicScript.Host.Families;
using NicScript.Host.Scripting.CSharp;
using Spectre.Console;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript bench</c>: the data path's figures — core loopback, bare ring, the same loopback from scripts.</summary>
public sealed class BenchCommand
{
    private readonly CliContext _cli;

    public BenchCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var json = new Option<bool>("--json") { Description = "Print {\"results\":[...]} as one JSON object." };
        var seconds = new Option<double>("--seconds") { Description = "How long each core scenario runs.", DefaultValueFactory = _ => 2.0 };
        var only = new Option<string?>("--only") { Description = "Run only the scenarios whose name contains this text (e.g. netdevice)." };
        var cmd = new Command("bench", """
            Measure the data path on this machine: Mpps and Gbit/s per scenario.
              loopback/core   TX burst -> doorbell -> device copy -> loopback -> RX used ring -> RxPoll, burst 32
              rdma/core       RDMA WRITE of 64 KiB (Gbit/s) and SEND of 64 B (M msgs/s) between two hosts, beside memcpy
              dpu-switch      64 B frames optical wire -> DPU switch -> elastic NIC's RX ring: no rules, 1/256/4096 rules (last one matches), a meter, two cables on two threads
              dpu-rpc         acknowledged (committed) changing rpcs per second from 8 gRPC clients, beside raw SQLite commits
              netdevice/core  a primary netdevice session: 32 tx indices -> checks -> virtio-net -> loopback -> rx FIFO, burst 32
              mana/core       MANA VF: 32 SQ WQEs, one doorbell -> wire -> RQ WQEs, TX/RX CQEs + EQE handling, burst 32
              ring/core       post 32, publish, pop, push used, reap: the split ring alone, no copy
              loopback/cs|js  the same loopback from a C# / JavaScript script, one tx and one rxPoll call per burst
              tap/core        (root) NIC A -> TAP -> Linux bridge in a fresh namespace -> TAP -> NIC B, 64 B frames
              netstack        echo round trips through net-bridge (JS) and aethernet (C#), from the built-in peer
              curve           only with --only curve: 64-9000 B frames, 1 and 8 queue pairs, 1/4/16 C# V-Nodes

            Examples:
              nicscript bench
              nicscript bench --json
              nicscript bench --only netdevice
            """)
        { json, seconds, only };
        cmd.SetAction(p => new BenchCommand(cli).Execute(p.GetValue(json), p.GetValue(seconds), p.GetValue(only)));
        return cmd;
    }

    /// <summary>The rows that show how cost grows: frame size, queue pairs, V-Nodes (names start "curve" for <c>--only</c>).</summary>
    private static IEnumerable<(string Name, Func<BenchResult> Run)> Curves(TimeSpan duration)
    {
        foreach (int bytes in (int[])[64, 128, 256, 512, 1024, 1500, 9000])
            yield return ($"curve frame {bytes} B", () => CoreBenchmarks.LoopbackFrameCurve(bytes, duration));
        foreach (int pairs in (int[])[1, 8])
            yield return ($"curve pairs {pairs}", () => CoreBenchmarks.LoopbackPairs(pairs, duration));
        foreach (int vnodes in (int[])[1, 4, 16])
            yield return ($"curve vnodes {vnodes}", () => VNodeBenchmark.Run(vnodes, 64, duration, ScriptCache.DefaultDirectory()));
    }

    /// <summary><paramref name="value"/> as a bar of up to <paramref name="width"/> cells against <paramref name="max"/>: block
    /// characters in eighths of a cell, or whole cells of <c>#</c> where the table is drawn in ASCII (a terminal without colour).</summary>
    internal static string Bar(double value, double max, int width, bool ascii = false)
    {
        double share = max > 0 && value > 0 ? Math.Min(1, value / max) : 0;
        if (ascii) return new string('#', share > 0 ? Math.Max(1, (int)Math.Round(share * width)) : 0);
        int eighths = share > 0 ? Math.Max(1, (int)Math.Round(share * width * 8)) : 0;
        return new string('█', eighths / 8) + (eighths % 8 == 0 ? "" : "▏▎▍▌▋▊▉"[eighths % 8 - 1].ToString());
    }

    // A script's top level may run max_cpu_share x 2 s + 2 s: keep its timed loop well inside that.
    private static TimeSpan Min(TimeSpan a, double seconds) => a < TimeSpan.FromSeconds(seconds) ? a : TimeSpan.FromSeconds(seconds);

    public int Execute(bool json, double seconds, string? only = null)
    {
        if (!(seconds > 0 && seconds <= 60)) throw new UserErrorException($"--seconds {seconds}: more than 0, at most 60");
        var duration = TimeSpan.FromSeconds(seconds);
        var rows = new List<BenchResult>();
        List<(string Name, Func<BenchResult> Run)> steps =
        [
            ("loopback core 64 B", () => CoreBenchmarks.Loopback(64, duration)),
            ("loopback core 1500 B", () => CoreBenchmarks.Loopback(1500, duration)),
            ("netdevice core 64 B", () => CoreBenchmarks.NetDevice(64, duration)),
            ("mana core 64 B", () => CoreBenchmarks.Mana(64, duration)),
            ("ring core", () => CoreBenchmarks.Ring(duration)),
            ("rdma write 64 KiB", () => RdmaBenchmarks.Run("write", 65536, duration)),
            ("memcpy 64 KiB", () => RdmaBenchmarks.Memcpy(65536, duration)),
            ("rdma send 64 B", () => RdmaBenchmarks.Run("send", 64, duration)),
            ("memcpy 64 B", () => RdmaBenchmarks.Memcpy(64, duration)),
            .. DeviceFamilies.BenchRows.Select(row => (row.Name, (Func<BenchResult>)(() => row.Run(duration)))),
            ("loopback C# 64 B", () => ScriptBenchmarks.Loopback("cs", 64, Min(duration, 1.5), ScriptCache.DefaultDirectory())),
            ("loopback JavaScript 64 B", () => ScriptBenchmarks.Loopback("js", 64, Min(duration, 1.5), ScriptCache.DefaultDirectory())),
        ];
        if (TapBenchmark.Unavailable() is null) steps.Add(("tap 64 B (two NICs, Linux bridge)", () => TapBenchmark.Run(duration)));
        else if (!json) _cli.Error.WriteLine($"skipping tap: {TapBenchmark.Unavailable()}");
        // The curves run only when asked (--only curve, or a part of it): 12 rows more would double the default bench.
        if (only is not null) steps.AddRange(Curves(duration));
        if (NetstackBenchmark.Find() is { } netstack)
            steps.Add(("netstack echo (net-bridge + aethernet)", () => NetstackBenchmark.Run(netstack, 20_000, ScriptCache.DefaultDirectory())));
        else if (!json) _cli.Error.WriteLine("skipping netstack: manifests/netstack.yml not found (run from the repository)");
        if (only is not null)
        {
            steps.RemoveAll(s => !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
            if (steps.Count == 0) throw new UserErrorException($"--only {only}: no scenario matches");
        }
        foreach (var (name, run) in steps)
        {
            if (!json) _cli.Error.WriteLine($"running {name} ...");
            GC.Collect(); // start each row from a quiet heap: the previous row's garbage is not this one's cost
            GC.WaitForPendingFinalizers();
            rows.Add(run());
        }
        if (json)
        {
            var results = new JsonArray();
            foreach (BenchResult r in rows)
                results.Add(new JsonObject
                {
                    ["scenario"] = r.Scenario, ["driver"] = r.Driver, ["frame_bytes"] = r.FrameBytes,
                    ["mpps"] = Math.Round(r.Mpps, 3), ["gbps"] = Math.Round(r.Gbps, 3), ["packets"] = r.Packets, ["seconds"] = Math.Round(r.Seconds, 3),
                    ["cpu_seconds"] = r.CpuSeconds is { } cpu ? Math.Round(cpu, 3) : null, ["note"] = r.Note,
                    ["family"] = r.Family ?? r.Scenario, ["queue_pairs"] = r.QueuePairs, ["vnodes"] = r.VNodes,
                    ["vnode_mpps"] = r.VNodeMpps is { } each ? new JsonArray([.. each.Select(m => (JsonNode?)Math.Round(m, 6))]) : null,
                });
            _cli.OutputText.WriteLine(CliJson.Text(new JsonObject { ["results"] = results }));
            return 0;
        }
        double? core64 = rows.FirstOrDefault(r => r.Scenario == "loopback" && r.Driver == "core" && r.FrameBytes == 64)?.Mpps; // absent with --only
        bool bars = _cli.Style.Terminal; // a bar is for eyes: a pipe or a file gets the columns alone
        string[] columns = ["scenario", "driver", "frame", "Mpps", "Gbit/s", "vs core 64 B"];
        var table = new ResultTable(bars ? [.. columns, "Mpps bar"] : columns);
        var best = rows.GroupBy(r => r.Family ?? r.Scenario).ToDictionary(g => g.Key, g => g.Max(r => r.Mpps));
        foreach (BenchResult r in rows)
        {
            string[] cells =
            [
                Markup.Escape(r.Scenario), Markup.Escape(r.Driver), r.FrameBytes == 0 ? "-" : $"{r.FrameBytes} B", $"{r.Mpps:0.00}", r.FrameBytes == 0 ? "-" : $"{r.Gbps:0.00}",
                r.Scenario == "loopback" && r.Family is null && r.FrameBytes == 64 && core64 is { } c ? $"{r.Mpps / c:0.00}x" : Markup.Escape(r.Note ?? ""),
            ];
            table.AddRow(bars ? [.. cells, $"[green]{Bar(r.Mpps, best[r.Family ?? r.Scenario], 24, ascii: !_cli.Style.Color)}[/]"] : cells);
        }
        _cli.Write(table);
        return 0;
    }
}
