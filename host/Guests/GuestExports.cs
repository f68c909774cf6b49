using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Pci;
using NicScript.Driver.VfioUser;

namespace NicScript.Host.Guests;

/// <summary>The functions a run gives to guests: one <see cref="VfioUserServer"/> per <c>--export</c>, listening for the
/// run's lifetime, and the bus trace they share.</summary>
/// <remarks>Design: the machine was built with the exported addresses (<see cref="Machine.ExportToGuest"/> before any
/// device), so each model already does its DMA in guest memory; here only the sockets are opened. The live state (client,
/// mappings, faults, why the last client was put out) is read from the servers when asked, for the REPL, a run's end and
/// <c>machine show</c>.</remarks>
public sealed class GuestExports : IDisposable
{
    private readonly List<(VfioUserServer Server, GuestMemory Guest, IDeviceModel Device)> _servers = [];
    private readonly JsonLinesTrace? _trace;
    private readonly List<string> _madeDirectories = [];

    private GuestExports(JsonLinesTrace? trace) => _trace = trace;

    /// <summary>Whether anything is exported.</summary>
    public bool IsEmpty => _servers.Count == 0;

    /// <summary>Opens a socket for each export on <paramref name="machine"/> (built with those addresses) and the trace.</summary>
    /// <param name="trace">A file for the JSON-lines bus trace, <c>-</c> for standard error, or null.</param>
    /// <exception cref="UserErrorException">No device at an address, a socket that cannot be made, a trace that cannot be written.</exception>
    public static GuestExports Start(Machine machine, IReadOnlyList<ExportOption> exports, string? trace, TextWriter error)
    {
        Stream? stream = null;
        try
        {
            stream = trace switch
            {
                null => null,
                "-" => Console.OpenStandardError(),
                _ => new FileStream(trace, FileMode.Create, FileAccess.Write, FileShare.Read),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"--trace {trace}: cannot write the trace: {e.Message}");
        }
        var exported = new GuestExports(stream is null ? null : new JsonLinesTrace(stream));
        try
        {
            foreach (ExportOption export in exports)
            {
                PciFunction? function = machine.Pci.Functions.FirstOrDefault(f => f.Address == export.Address);
                IDeviceModel device = (function is null ? null : machine.DeviceOf(function))
                    ?? throw new UserErrorException($"--export {export.Address.Short}: the machine has no device there (its functions: {string.Join(", ", machine.Devices.Select(d => d.Function.Address.Short))})");
                exported.Listen(machine, device, export.SocketPath);
                error.WriteLine($"{export.Address.Short} ({device.Kind}): vfio-user on {export.SocketPath}");
            }
            return exported;
        }
        catch
        {
            exported.Dispose();
            throw;
        }
    }

    private void Listen(Machine machine, IDeviceModel device, string path)
    {
        string? dir = Path.GetDirectoryName(path);
        try
        {
            if (dir is not null && !Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                _madeDirectories.Add(dir);
            }
            GuestMemory guest = machine.ExportToGuest(device.Function.Address);
            _servers.Add((new VfioUserServer(device, guest, path, machine.Events, _trace), guest, device));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            throw new UserErrorException($"--export {device.Function.Address.Short}={path}: cannot listen there: {e.Message}");
        }
    }

    /// <summary>One line per exported function: its socket, whether a guest is connected, its DMA mappings and faults, and
    /// why the last client was put out.</summary>
    public void AppendState(StringBuilder text)
    {
        foreach (var (server, guest, device) in _servers)
            text.Append($"{device.Function.Address.Short} vfio-user {server.SocketPath}: {(server.Connected ? "connected" : "waiting")}, clients {server.Clients}, "
                + $"mappings {guest.Mappings.Count}, DMA faults {guest.Domain.Faults}, last close {server.LastCloseReason ?? "-"}\n");
    }

    /// <summary>The same as JSON, one object per function.</summary>
    public JsonArray ToJson()
    {
        var all = new JsonArray();
        foreach (var (server, guest, device) in _servers)
            all.Add(new JsonObject
            {
                ["function"] = device.Function.Address.Short, ["kind"] = device.Kind, ["socket"] = server.SocketPath,
                ["connected"] = server.Connected, ["clients"] = server.Clients, ["mappings"] = guest.Mappings.Count,
                ["dma_faults"] = guest.Domain.Faults, ["last_close"] = server.LastCloseReason,
            });
        return all;
    }

    /// <summary>Stops every server (a connected guest loses its device), then closes the trace and removes the folders made.</summary>
    public void Dispose()
    {
        foreach (var (server, _, _) in _servers) server.Dispose();
        _trace?.Dispose(); // and its stream
        foreach (string dir in _madeDirectories)
        {
            try { Directory.Delete(dir); }
            catch (IOException) { } // something else put a file there: leave it
        }
    }
}
