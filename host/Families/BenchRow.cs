using NicScript.Host.Cli.Bench;

namespace NicScript.Host.Families;

/// <summary>A row a family adds to <c>nicscript bench</c>: its name (what <c>--only</c> matches) and how it is measured for a duration.</summary>
public sealed record BenchRow(string Name, Func<TimeSpan, BenchResult> Run);
