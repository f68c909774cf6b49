using NicScript.Host.Cli.Bench;

namespace NicScript.Host.Tests.Cli.Bench;

/// <summary>A script loopback row against the core loop, per CPU second of the thread that moved the packets (so the ratio
/// does not depend on what else the host runs): the two alternate and each keeps its best (a preempted or migrated thread
/// only ever runs slower), stopping once both ran twice and the script reached <c>bound</c>.</summary>
internal static class ScriptLoopRatio
{
    public static (double Script, double Core) BestOf(string language, double bound, TimeSpan warmUp)
    {
        using var cache = new TempDir();
        var duration = TimeSpan.FromSeconds(0.5);
        ScriptBenchmarks.Loopback(language, 64, warmUp, cache.Path); // compile and warm up
        CoreBenchmarks.Loopback(64, TimeSpan.FromSeconds(0.1));
        static double PerCpu(BenchResult r) => r.Packets / r.CpuSeconds!.Value / 1e6;
        double core = 0, script = 0;
        for (int i = 0; i < 10 && !(i >= 2 && script >= bound * core); i++)
        {
            core = Math.Max(core, PerCpu(CoreBenchmarks.Loopback(64, duration)));
            script = Math.Max(script, PerCpu(ScriptBenchmarks.Loopback(language, 64, duration, cache.Path)));
        }
        return (script, core);
    }
}
