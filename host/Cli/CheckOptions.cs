namespace NicScript.Host.Cli;

/// <summary>The options of <c>nicscript check</c>.</summary>
public sealed record CheckOptions(string Target, bool Json, string? CacheDirectory);
