using NicScript.Host.Capabilities;

namespace NicScript.Host.Families;

/// <summary>A family's <c>nicscript run</c> options as given: checked with the generic ones before anything is made, then
/// opened into the service the family's handles share during the run.</summary>
public abstract class FamilyRunOptions
{
    /// <summary>The options' own rules (a listening address is bindable, …), checked before any file, device or socket is made.</summary>
    /// <exception cref="UserErrorException">One line naming the option.</exception>
    public abstract void Check();

    /// <summary>Makes the family's service for <paramref name="run"/> (its handles find it in <see cref="RunServices"/>) and starts
    /// what the options ask for.</summary>
    /// <returns>The service; the run disposes it once its V-Nodes stopped.</returns>
    public abstract Task<IAsyncDisposable> OpenAsync(FamilyRun run);
}
