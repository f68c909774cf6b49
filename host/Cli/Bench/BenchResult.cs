namespace NicScript.Host.Cli.Bench;

/// <summary>One row of <c>nicscript bench</c>.</summary>
public sealed record BenchResult(string Scenario, string Driver, int FrameBytes, double Mpps, double Gbps, long Packets, double Seconds, string? Note = null)
{
    /// <summary>CPU seconds the measuring thread used over the same window, where the row measures it: packets per CPU
    /// second compare two rows fairly on a loaded host, where wall time depends on what else runs.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>The rows one curve is made of (<c>curve frame</c>, <c>curve pairs</c>, <c>curve vnodes</c>): the console scales
    /// their bars together. Null: the scenario is the family.</summary>
    public string? Family { get; init; }

    /// <summary>Queue pairs the row drove, where it says.</summary>
    public int? QueuePairs { get; init; }

    /// <summary>V-Nodes that ran at once, and each one's rate (Mpps), where the row runs several.</summary>
    public int? VNodes { get; init; }

    /// <inheritdoc cref="VNodes"/>
    public IReadOnlyList<double>? VNodeMpps { get; init; }
}
