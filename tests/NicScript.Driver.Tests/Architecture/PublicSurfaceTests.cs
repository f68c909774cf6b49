using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Architecture;

/// <summary>The public-surface checker itself: it reports the public types no rule needs, so the architecture test can fail.</summary>
public sealed class PublicSurfaceTests
{
    private const string Samples = "NicScript.Driver.Tests.Architecture.Samples";
    private const string Outer = Samples + ".PublicSurfaceSamples";

    [Fact]
    public void Unneeded_TypesNoRuleNeeds_AreReportedAndTheOthersAreNot()
    {
        IReadOnlyList<string> unneeded = PublicSurface.Unneeded(typeof(PublicSurfaceTests).Assembly.Location, Samples,
            new HashSet<string> { Outer + "+NamedByHost" }, "int one = (int)PublicSurfaceSamples.ConstantsUsed.One;");
        Assert.Equal([Outer + "+ShownOnlyByUnneeded", Outer + "+Unneeded"], unneeded);
    }

    [Fact]
    public void Unneeded_NothingNamedAndNoSources_ReportsAllButScriptSurfaceAndWhatItShows()
    {
        IReadOnlyList<string> unneeded = PublicSurface.Unneeded(typeof(PublicSurfaceTests).Assembly.Location, Samples, new HashSet<string>(), "");
        Assert.Equal([Outer + "+ConstantsUsed", Outer + "+NamedByHost", Outer + "+ShownAsBase", Outer + "+ShownOnlyByUnneeded", Outer + "+Unneeded"], unneeded);
    }

    [Fact]
    public void NamedBy_ReadsTheTypeReferencesIntoTheTargetAssembly()
    {
        IReadOnlySet<string> named = PublicSurface.NamedBy(typeof(PublicSurfaceTests).Assembly.Location, "NicScript.Driver");
        Assert.Contains(typeof(DmaMemory).FullName!, named);
        Assert.DoesNotContain(typeof(FactAttribute).FullName!, named); // a reference into another assembly
    }
}
