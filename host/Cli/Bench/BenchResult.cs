namespace NicScript.Host.Cli.Bench;

/// <summary>One row of <c>nicscript bench</c>.</summary>
public sealed record BenchResult(string Scenario, string Driver, int FrameBytes, double Mpps, double Gbps, long Packets, double Seconds, string? Note = null)
{
    /// <summary>CPU seconds the measuring thread used over the same window, where the row measures it: packets per CPU
    /// second compare two rows fairly on a loaded host, where wall time depends on what else runs.</summary>
    public double? CpuSeconds { get; init; }
}
