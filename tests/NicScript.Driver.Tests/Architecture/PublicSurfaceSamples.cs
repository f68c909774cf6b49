namespace NicScript.Driver.Tests.Architecture.Samples;

/// <summary>Samples for <see cref="PublicSurfaceTests"/>: a public type for each rule of <see cref="PublicSurface"/>
/// and two that no rule needs, nested here so that their own namespace holds nothing else.</summary>
public static class PublicSurfaceSamples
{
    /// <summary>Named by the "host" (the test passes its name).</summary>
    public class NamedByHost : ShownAsBase;

    /// <summary>Needed as the base type of a needed type.</summary>
    public class ShownAsBase;

    /// <summary>Script surface: it carries a <see cref="ScriptApiAttribute"/> member.</summary>
    public sealed class Scripted
    {
        [ScriptApi] public ShownInSignature Get() => new();
    }

    /// <summary>Needed because the script surface returns it.</summary>
    public sealed class ShownInSignature;

    /// <summary>Constants the "host" uses: compiled into it, so only its sources show them.</summary>
    public enum ConstantsUsed { One = 1 }

    /// <summary>Needed by nothing: reported.</summary>
    public sealed class Unneeded
    {
        public ShownOnlyByUnneeded Get() => new();
    }

    /// <summary>Shown only by a type nothing needs: reported too.</summary>
    public sealed class ShownOnlyByUnneeded;

    /// <summary>Already internal: never reported.</summary>
    internal sealed class AlreadyInternal;
}
