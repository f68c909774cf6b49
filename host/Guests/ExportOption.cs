using NicScript.Driver.Pci;

namespace NicScript.Host.Guests;

/// <summary>One <c>--export ADDRESS[=PATH]</c>: a function given to a guest over vfio-user, on PATH or the run's default
/// socket (<see cref="ExportSockets.Default"/>).</summary>
public sealed record ExportOption(PciAddress Address, string SocketPath)
{
    /// <exception cref="UserErrorException">Not an address, or an empty path.</exception>
    public static ExportOption Parse(string text)
    {
        int eq = text.IndexOf('=');
        string address = eq < 0 ? text : text[..eq];
        if (!PciAddress.TryParse(address, out PciAddress a, out string? error))
            throw new UserErrorException($"--export {text}: {error}");
        string path = eq < 0 ? ExportSockets.Default(a) : text[(eq + 1)..];
        if (path.Length == 0 || Directory.Exists(path)) throw new UserErrorException($"--export {text}: expected a socket path after '=', not {(path.Length == 0 ? "an empty name" : "a folder")}");
        return new(a, Path.GetFullPath(path));
    }

    /// <summary>The functions to export: the <c>--export</c> values and the machine file's devices marked <c>vfio-user</c>.</summary>
    /// <exception cref="UserErrorException">A bad value, or one function exported twice.</exception>
    public static List<ExportOption> All(IEnumerable<string>? options, Manifests.MachineSpec? spec)
    {
        List<ExportOption> all = [.. (options ?? []).Select(Parse)];
        foreach (Manifests.DeviceSpec d in spec?.Devices ?? [])
            if (d.VfioUser is { } path)
            {
                if (all.Any(e => e.Address == d.Address)) throw new UserErrorException($"{d.At}: {d.Address.Short} is exported by --export and by the machine file's vfio-user");
                all.Add(new(d.Address, path.Length == 0 ? ExportSockets.Default(d.Address) : path));
            }
        foreach (var twice in all.GroupBy(e => e.Address).Where(g => g.Count() > 1))
            throw new UserErrorException($"--export {twice.Key.Short}: given twice");
        return all;
    }
}
