using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Cli.Bench;

/// <summary>Echo round trips per second through net-bridge and aethernet-service on the default machine, driven by the built-in peer.</summary>
public static class NetstackBenchmark
{
    /// <summary>Where manifests/netstack.yml is: the working folder or the repository the program was built in; null when neither has it.</summary>
    public static string? Find()
    {
        string here = Path.Combine(Environment.CurrentDirectory, "manifests", "netstack.yml");
        if (File.Exists(here)) return here;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "manifests", "netstack.yml"))) return Path.Combine(dir.FullName, "manifests", "netstack.yml");
        return null;
    }

    /// <summary>Runs the system twice in this process: the first run (not reported) is the warm-up — the host's, Jint's and the
    /// driver's code is tier-0 for its first thousands of calls and the tiered compiler is still busy, so a short run measured
    /// the JIT — the second one, with fresh V-Nodes (fresh share accounts) over warmed code, is the row.</summary>
    public static BenchResult Run(string systemFile, int packets, string cacheDirectory)
    {
        RunOnce(systemFile, packets, cacheDirectory);
        return RunOnce(systemFile, packets, cacheDirectory);
    }

    private static BenchResult RunOnce(string systemFile, int packets, string cacheDirectory)
    {
        RunTarget target = RunTarget.Load(systemFile);
        PeerSpec spec = (target.Document as SystemManifest)?.Peer ?? throw new UserErrorException($"{systemFile}: no system.peer to drive it");
        var log = new LoggerConfiguration().CreateLogger();
        var (machine, owned) = MachineFactory.Build(null, "peer", null, null, new DeviceEventLog(log));
        using (machine)
        {
            using var audit = new AuditLog(log);
            using var peer = new EchoPeer(spec.Ipv4, spec.Target, packets, 0);
            peer.Attach(machine.Links[0]);
            var runner = new VNodeRunner(log, new ScriptEngineFactory(cacheDirectory));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan started = TimeSpan.Zero;
            RunReport report = runner.RunAsync("netstack", target.VNodes, machine, audit, TimeSpan.FromSeconds(60), CancellationToken.None,
                () => { started = clock.Elapsed; peer.Start(); return peer.Done; }).GetAwaiter().GetResult();
            EchoPeerReport echo = peer.Done.IsCompletedSuccessfully ? peer.Done.Result : throw new InvalidOperationException("the peer did not finish");
            double seconds = (clock.Elapsed - started).TotalSeconds;
            return CoreBenchmarks.Row("netstack", "js+cs", 98, echo.Received, seconds,
                $"{echo.Received / seconds:0} echo round trips/s, lost {echo.Lost}, p50 {echo.RttP50Us:0} us, p99 {echo.RttP99Us:0} us, CPU per echo: " +
                string.Join(", ", report.VNodes.Select(v => $"{v.Name} {v.CpuTime.TotalMicroseconds / Math.Max(1, echo.Received):0.0} us")));
        }
    }
}
