using System.Diagnostics;
using System.Globalization;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Cli.Bench;

/// <summary>
/// N V-Nodes run by the host's runtime at once, each a C# script forwarding on its own virtio-net function and loopback
/// wire: the aggregate rate, each V-Node's share of it and the CPU each packet costs, as N grows past the cores.
/// </summary>
/// <remarks>
/// Design: every V-Node runs the same script (one compile: the cache key is the file's path and text) and forwards in
/// slices of about 2 ms, each a handler re-armed with <c>vnode.after(0, ...)</c>, so its loop serves timers and the share
/// account between slices as a real V-Node's does. After each slice it sets two gauges, its packet count and its thread's
/// CPU time; the bench reads them through the runner at the start and the end of its window, which opens once every top
/// level has returned and the warm-up has passed, so no V-Node's start-up falls in it. The row's note gives the spread
/// between the slowest and the fastest V-Node: the OS scheduler's fairness among the V-Node loops.
/// </remarks>
public static class VNodeBenchmark
{
    private const string Script = """
        var nic = Net.Open(VNode.Setting("nic")).Up();
        var b = nic.Burst();
        b.Prepare(32, FRAME);
        long got = 0;
        void Slice()
        {
            double end = VNode.NowNs + 2e6;
            do
            {
                for (var i = 0; i < 16; i++) { nic.Tx(b); got += nic.RxPoll(b); }
            }
            while (VNode.NowNs < end);
            Metrics.Set("packets", got);
            Metrics.Set("cpu_ns", VNode.CpuNs);
            VNode.After(0, Slice);
        }
        VNode.After(0, Slice);
        """;

    /// <summary>Runs <paramref name="vnodes"/> V-Nodes for <paramref name="duration"/> (after their start-up and a warm-up).</summary>
    public static BenchResult Run(int vnodes, int frameBytes, TimeSpan duration, string cacheDirectory)
    {
        if (vnodes is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(vnodes), "1..16 V-Nodes (one INTx line each, 16-31)");
        string dir = Directory.CreateTempSubdirectory("nicscript-bench-vnodes-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "forward.csx"), Script.Replace("FRAME", frameBytes.ToString(CultureInfo.InvariantCulture)));
            var manifests = new List<VNodeManifest>();
            for (int i = 0; i < vnodes; i++)
            {
                string manifest = Path.Combine(dir, $"vnode-{i}.yml");
                File.WriteAllText(manifest, $$"""
                    vnode: { name: "forward-{{i}}", version: "0.1.0", mode: strict }
                    runtime: { entrypoint: "forward.csx", required_mem_mb: 64, max_cpu_share: 1.0 }
                    capabilities:
                      - NetworkAccess
                      - CAP_HARDWARE_IO_PCI: "{{Nic(i)}}"
                      - CAP_DMA_ALLOC
                    observability:
                      metrics: ["packets", "cpu_ns"]
                    settings:
                      nic: "{{Nic(i)}}"
                    """);
                manifests.Add(ManifestLoader.LoadVNode(manifest));
            }
            return Measure(vnodes, frameBytes, duration, cacheDirectory, manifests);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static PciAddress Nic(int i) => new(0, 0, (byte)(1 + i), 0);

    private static BenchResult Measure(int vnodes, int frameBytes, TimeSpan duration, string cacheDirectory, List<VNodeManifest> manifests)
    {
        var log = new LoggerConfiguration().CreateLogger();
        using var machine = new Machine("bench-vnodes");
        for (int i = 0; i < vnodes; i++)
        {
            PciAddress address = Nic(i);
            Link wire = machine.AddLink(Links.Loopback($"loopback-{i}"));
            machine.Add(new VirtioNetDevice(address, machine.Domain(address), machine.Line(16 + i), [0x52, 0x54, 0, 0, 1, (byte)i], machine.Events), wire);
        }
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(cacheDirectory));
        (double Packets, double CpuNs)[] first = [], last = [];
        double seconds = 0;
        async Task Window()
        {
            await Task.Delay(CoreBenchmarks.WarmUpTime + TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            first = Read(runner);
            await Task.Delay(duration).ConfigureAwait(false);
            last = Read(runner);
            seconds = clock.Elapsed.TotalSeconds;
        }
        RunReport report = runner.RunAsync("bench-vnodes", manifests, machine, audit, duration + TimeSpan.FromSeconds(60), CancellationToken.None, Window)
            .GetAwaiter().GetResult();
        if (report.VNodes.FirstOrDefault(v => v.Status is not (VNodeStatus.Stopped or VNodeStatus.Completed)) is { } bad)
            throw new InvalidOperationException($"the V-Node bench's {bad.Name} {bad.Status}: {bad.Error}");
        if (first.Length != vnodes || last.Length != vnodes) throw new InvalidOperationException("the V-Node bench's window did not close");
        double[] packets = [.. last.Zip(first, (b, a) => b.Packets - a.Packets)];
        double cpuNs = last.Zip(first, (b, a) => b.CpuNs - a.CpuNs).Sum();
        double total = packets.Sum();
        double[] each = [.. packets.Select(p => p / seconds / 1e6)];
        return CoreBenchmarks.Row("vnodes loopback", "cs", frameBytes, (long)total, seconds,
            $"{vnodes} V-Node{(vnodes == 1 ? "" : "s")}: {each.Min():0.00}-{each.Max():0.00} Mpps each, {cpuNs / Math.Max(1, total):0} ns CPU/frame")
            with { CpuSeconds = cpuNs / 1e9, Family = "curve vnodes", VNodes = vnodes, VNodeMpps = each };
    }

    /// <summary>Each V-Node's gauges now (packets forwarded, its loop thread's CPU ns), in manifest order.</summary>
    private static (double Packets, double CpuNs)[] Read(VNodeRunner runner) =>
    [
        .. runner.Live.Select(c => (c.Metrics.TryGet("packets", out Metric p) ? p.Value : 0, c.Metrics.TryGet("cpu_ns", out Metric t) ? t.Value : 0)),
    ];
}
