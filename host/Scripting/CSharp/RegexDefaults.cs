using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>The process-wide Regex match timeout that bounds every match a script runs (a catastrophic pattern cannot hang a V-Node).</summary>
/// <remarks>
/// Design: scripts may not pass a TimeSpan to Regex nor name <c>Regex.InfiniteMatchTimeout</c> (allow-list), so every
/// Regex they build takes the default, which the runtime reads once from <c>REGEX_DEFAULT_MATCH_TIMEOUT</c>. A module
/// initializer sets it before anything of nicscript runs. Where something read the default earlier (a host that
/// loads nicscript late, like a test runner), <see cref="InEffect"/> is false and the IL check refuses Regex: fail closed.
/// A timeout surfaces as the script's own failure, <c>RegexMatchTimeoutException: …</c> at its line.
/// </remarks>
internal static class RegexDefaults
{
    /// <summary>Longest a single match may run: well under every CPU slice a manifest can ask for.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

#pragma warning disable CA2255 // nicscript is the application: its module initializer runs before Main, which is the point
    [ModuleInitializer]
    internal static void SetDefaultMatchTimeout() => AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", MatchTimeout);
#pragma warning restore CA2255

    // Lazy: the module initializer runs this type's static constructor, which must not touch Regex before the default is set.
    private static readonly Lazy<bool> s_inEffect = new(() => new Regex("x", RegexOptions.None).MatchTimeout == MatchTimeout);

    /// <summary>True when a Regex built without a timeout gets <see cref="MatchTimeout"/>.</summary>
    public static bool InEffect => s_inEffect.Value;
}
