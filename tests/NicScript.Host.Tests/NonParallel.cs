namespace NicScript.Host.Tests;

/// <summary>Tests that measure or use the network run alone, after the rest: a loaded machine skews a benchmark and delays a ping.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallel
{
    public const string Name = "non-parallel";
}
