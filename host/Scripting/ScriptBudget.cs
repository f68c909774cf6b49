namespace NicScript.Host.Scripting;

// Placeholder until the C# engine branch lands its ScriptBudget (same names); replaced at merge.
public sealed class ScriptBudget
{
    public ScriptBudget(TimeSpan cpuSlice, long memoryBytes, double maxCpuShare = 0, int requiredMemMb = 0)
    {
        CpuSlice = cpuSlice;
        MemoryBytes = memoryBytes;
        MaxCpuShare = maxCpuShare;
        RequiredMemMb = requiredMemMb;
    }

    public TimeSpan CpuSlice { get; }
    public long MemoryBytes { get; }
    public double MaxCpuShare { get; }
    public int RequiredMemMb { get; }

    public static ScriptBudget ForManifest(double maxCpuShare, int requiredMemMb) =>
        new(TimeSpan.FromMilliseconds(Math.Max(10, maxCpuShare * 2000)), requiredMemMb * 1024L * 1024L, maxCpuShare, requiredMemMb);

    public string DescribeCpu() => $"CPU budget exceeded: ran past {CpuSlice.TotalMilliseconds:0} ms (max_cpu_share {MaxCpuShare} allows {CpuSlice.TotalMilliseconds:0} ms per invocation)";
    public string DescribeMemory() => $"memory budget exceeded: allocated more than {RequiredMemMb} MiB in one invocation (required_mem_mb {RequiredMemMb})";
}
