using NicScript.Driver.Pci;

namespace NicScript.Host.Guests;

/// <summary>Where a run's exported functions listen when <c>--export</c> names no path, and how <c>nicscript guest</c>
/// finds them again: <c>$XDG_RUNTIME_DIR/nicscript/PID/00-1f.0.sock</c> (or under the temporary folder without one).</summary>
/// <remarks>Design: the run's process id keeps two runs apart; the guest command looks at every run's folder whose
/// process is still alive, so "the running machine" needs no other registry.</remarks>
public static class ExportSockets
{
    /// <summary>The folder that holds every run's socket folder.</summary>
    public static string Root
    {
        get
        {
            string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            return Path.Combine(string.IsNullOrEmpty(runtime) || !Directory.Exists(runtime) ? Path.GetTempPath() : runtime, "nicscript");
        }
    }

    /// <summary>The socket's file name for a function: <c>00-1f.0.sock</c> (no colon, which some tools split on).</summary>
    public static string FileName(PciAddress address) => address.Short.Replace(':', '-') + ".sock";

    /// <summary>The default socket of <paramref name="address"/> for this process.</summary>
    public static string Default(PciAddress address) => Path.Combine(Root, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), FileName(address));

    /// <summary>The sockets of running processes that export <paramref name="address"/> at the default place.</summary>
    public static IReadOnlyList<string> Running(PciAddress address)
    {
        if (!Directory.Exists(Root)) return [];
        var found = new List<string>();
        foreach (string dir in Directory.EnumerateDirectories(Root).Order(StringComparer.Ordinal))
        {
            string socket = Path.Combine(dir, FileName(address));
            if (int.TryParse(Path.GetFileName(dir), out int pid) && Directory.Exists($"/proc/{pid}") && File.Exists(socket)) found.Add(socket);
        }
        return found;
    }
}
