using System.Runtime.InteropServices;

namespace NicScript.Host.Cli;

/// <summary>Signal dispositions the host does not keep from whoever started it.</summary>
/// <remarks>
/// Design: a non-interactive shell starts a background job (<c>cmd &amp;</c>) with SIGINT and SIGQUIT ignored, and an
/// ignored signal stays ignored across exec; .NET then never installs its handler for it, so <c>kill -INT</c> — the way
/// scripts, CI and our own tests stop a run — did nothing and the run went on to its <c>--duration</c>. The host is a
/// foreground tool whose SIGINT means "stop cleanly" however it was started, so SIGINT gets its default back before the
/// handler is registered. SIGTERM is never ignored by shells; it is restored too, for a parent that did.
/// </remarks>
internal static class InheritedSignals
{
    private const int SIGINT = 2, SIGTERM = 15;

    public static void RestoreStopSignals()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        foreach (int sig in (ReadOnlySpan<int>)[SIGINT, SIGTERM])
        {
            nint previous = signal(sig, SIG_DFL);
            if (previous != SIG_IGN && previous != SIG_ERR) signal(sig, previous); // a handler (the runtime's) or the default: leave it
        }
    }

    private static readonly nint SIG_DFL = 0, SIG_IGN = 1, SIG_ERR = -1;

    [DllImport("libc", EntryPoint = "signal")]
    private static extern nint signal(int signum, nint handler);
}
