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
}
