namespace NicScript.Host.Cli.Bench;

/// <summary>One row of <c>nicscript bench</c>.</summary>
public sealed record BenchResult(string Scenario, string Driver, int FrameBytes, double Mpps, double Gbps, long Packets, double Seconds, string? Note = null);
