using NicScript.Driver.Devices;
using System.Globalization;
using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Cli.Bench;

/// <summary>The loopback of <see cref="CoreBenchmarks"/> driven from a script: one tx and one rxPoll call per burst of 32, forwarding what came back.</summary>
public static class ScriptBenchmarks
{
    private const string Js = """
        const nic = net.open("00:1f.0").up();
        const b = nic.burst();
        b.prepare(32, FRAME);
        for (const w0 = vnode.nowNs; vnode.nowNs - w0 < WARM;) { nic.tx(b); nic.rxPoll(b); }
        let got = 0, elapsed = 0;
        const t0 = vnode.nowNs, c0 = vnode.cpuNs;
        while (elapsed < NANOS) {
          for (let i = 0; i < 256; i++) { nic.tx(b); got += nic.rxPoll(b); }
          elapsed = vnode.nowNs - t0;
        }
        [got, elapsed, vnode.cpuNs - c0];
        """;

    private const string Cs = """
        var nic = Net.Open("00:1f.0").Up();
        var b = nic.Burst();
        b.Prepare(32, FRAME);
        for (double w0 = VNode.NowNs; VNode.NowNs - w0 < WARM;) { nic.Tx(b); nic.RxPoll(b); }
        var got = 0L;
        double t0 = VNode.NowNs, c0 = VNode.CpuNs, elapsed = 0;
        while (elapsed < NANOS)
        {
            for (var i = 0; i < 256; i++) { nic.Tx(b); got += nic.RxPoll(b); }
            elapsed = VNode.NowNs - t0;
        }
        new double[] { got, elapsed, VNode.CpuNs - c0 }
        """;

    /// <summary>The scripts' warm-up: longer than the core rows' (<see cref="CoreBenchmarks.WarmUpTime"/>) because far more
    /// methods must reach the optimising tier — Jint's interpreter and the host's call path, not a loop's few — and on a
    /// loaded machine 0.4 s measured them half-compiled (the JavaScript row read 0.2× the core row that way, 0.5× after
    /// 1 s). With the measured 1.5 s it stays well inside the top level's 4 s runaway limit (max_cpu_share 1 × 2 s + 2 s).</summary>
    internal static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(1);

    /// <param name="language"><c>js</c> or <c>cs</c>.</param>
    public static BenchResult Loopback(string language, int frameBytes, TimeSpan duration, string cacheDirectory)
    {
        using var dir = new TempFolder();
        string file = language == "js" ? "bench.js" : "bench.csx";
        string code = (language == "js" ? Js : Cs).Replace("FRAME", frameBytes.ToString(CultureInfo.InvariantCulture))
            .Replace("WARM", (WarmUpTime.TotalMilliseconds * 1e6).ToString("0", CultureInfo.InvariantCulture))
            .Replace("NANOS", (duration.TotalMilliseconds * 1e6).ToString("0", CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(dir.Path, file), code);
        string manifest = Path.Combine(dir.Path, "bench.yml");
        File.WriteAllText(manifest, $$"""
            vnode: { name: "bench-{{language}}", version: "0.1.0", mode: strict }
            runtime: { entrypoint: "{{file}}", required_mem_mb: 512, max_cpu_share: 1.0 }  # the top level runs the whole measurement (2 s + 2 s start-up); a host call allocates nothing (CompiledInvoker)
            capabilities:
              - NetworkAccess
              - CAP_HARDWARE_IO_PCI: "00:1f.0"
              - CAP_DMA_ALLOC
            """);
        using Machine machine = DefaultMachine.Create();
        // The core row's device: the same virtio-net with no RoCE engine looking at each frame (the default machine binds one
        // to 00:1f.0), so the row measures what the script adds to the loop, not the engine's demultiplexing.
        machine.Devices.OfType<INicModel>().First(d => d.Function.Address == DefaultMachine.VirtioNet).SetTap(null);
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(cacheDirectory));
        RunReport report = runner.RunAsync("bench", [ManifestLoader.LoadVNode(manifest)], machine, audit, TimeSpan.FromSeconds(30), CancellationToken.None)
            .GetAwaiter().GetResult();
        VNodeReport v = report.VNodes.Single();
        if (v.Status != VNodeStatus.Completed) throw new InvalidOperationException($"the {language} bench script failed: {v.Error}");
        (double packets, double ns, double cpuNs) = v.Result switch
        {
            object[] { Length: 3 } a => (Convert.ToDouble(a[0], CultureInfo.InvariantCulture), Convert.ToDouble(a[1], CultureInfo.InvariantCulture), Convert.ToDouble(a[2], CultureInfo.InvariantCulture)),
            double[] { Length: 3 } d => (d[0], d[1], d[2]),
            _ => throw new InvalidOperationException($"the {language} bench script returned {v.Result}"),
        };
        return CoreBenchmarks.Row("loopback", language, frameBytes, (long)packets, ns / 1e9) with { CpuSeconds = cpuNs / 1e9 };
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("nicscript-bench-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
