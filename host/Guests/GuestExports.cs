using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.VfioUser;
using NicScript.Host.Families;

namespace NicScript.Host.Guests;

/// <summary>The functions a run gives to guests: one <see cref="VfioUserServer"/> per <c>--export</c> while its function is
/// on the machine, and the bus trace they share.</summary>
/// <remarks>Design: the machine was built with the exported addresses (<see cref="Machine.ExportToGuest"/> before any
/// device), so each model already does its DMA in guest memory, including one a family makes later; here only the sockets
/// are opened and closed. A function there at the start is served from the start. One a family places while the run goes
/// on (<see cref="HotAddSlots"/>: a DPU's elastic NIC once <c>nicscript apply</c> makes it) is served from the moment
/// <see cref="Machine.DeviceAdded"/> says it arrived; when it is hot-removed its server stops (a connected guest loses the
/// device, as on a surprise removal) and the export waits for the address to be filled again. Each change is one line on
/// the console. The live state (client, mappings, faults, why the last client was put out) is read from the servers when
/// asked, for the REPL and a run's end.</remarks>
public sealed class GuestExports : IDisposable
{
    private readonly Machine _machine;
    private readonly List<Export> _exports = [];
    private readonly JsonLinesTrace? _trace;
    private readonly TextWriter _console;
    private readonly List<string> _madeDirectories = [];

    private GuestExports(Machine machine, JsonLinesTrace? trace, TextWriter console)
    {
        _machine = machine;
        _trace = trace;
        _console = console;
    }

    /// <summary>Whether anything is exported.</summary>
    public bool IsEmpty => _exports.Count == 0;

    /// <summary>Opens a socket for each export whose function is on <paramref name="machine"/> (built with those
    /// addresses), and the trace; an export of an address in <paramref name="later"/> without a function yet is served once
    /// one arrives.</summary>
    /// <param name="later">Where the machine's families place functions while it runs.</param>
    /// <param name="trace">A file for the JSON-lines bus trace, <c>-</c> for standard error, or null.</param>
    /// <param name="console">Where each export's start, arrival and removal is said.</param>
    /// <exception cref="UserErrorException">No device at an address that none can reach, a socket that cannot be made, a
    /// trace that cannot be written.</exception>
    public static GuestExports Start(Machine machine, IReadOnlyList<ExportOption> exports, IReadOnlyList<HotAddSlots> later, string? trace, TextWriter console)
    {
        foreach (ExportOption export in exports)
            if (DeviceAt(machine, export) is null && !later.Any(s => s.Contains(export.Address)))
                throw new UserErrorException($"--export {export.Address.Short}: the machine has no device there, and none is placed there while it runs "
                    + $"(its functions: {string.Join(", ", machine.Devices.Select(d => d.Function.Address.Short))}"
                    + string.Concat(later.Select(s => $"; {s}")) + ")");
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
        var exported = new GuestExports(machine, stream is null ? null : new JsonLinesTrace(stream), console);
        try
        {
            lock (exported._exports)
            {
                machine.DeviceAdded += exported.OnAdded;
                machine.DeviceRemoved += exported.OnRemoved;
                foreach (ExportOption option in exports)
                {
                    var export = new Export(option, machine.ExportToGuest(option.Address), later.FirstOrDefault(s => s.Contains(option.Address))?.What);
                    exported._exports.Add(export);
                    if (DeviceAt(machine, option) is { } device)
                    {
                        exported.Listen(export, device);
                        console.WriteLine($"{option.Address.Short} ({device.Kind}): vfio-user on {option.SocketPath}");
                    }
                    else console.WriteLine($"{option.Address.Short}: no function yet; vfio-user on {option.SocketPath} once one of {export.PlacedBy} is placed there");
                }
            }
            return exported;
        }
        catch
        {
            exported.Dispose();
            throw;
        }
    }

    private static IDeviceModel? DeviceAt(Machine machine, ExportOption export) => machine.Devices.FirstOrDefault(d => d.Function.Address == export.Address);

    /// <exception cref="UserErrorException">The socket (or its folder) cannot be made.</exception>
    private void Listen(Export export, IDeviceModel device)
    {
        string path = export.Option.SocketPath;
        string? dir = Path.GetDirectoryName(path);
        try
        {
            if (dir is not null && !Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                _madeDirectories.Add(dir);
            }
            export.Server = new VfioUserServer(device, export.Guest, path, _machine.Events, _trace);
            export.Device = device;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            throw new UserErrorException($"--export {device.Function.Address.Short}={path}: cannot listen there: {e.Message}");
        }
    }

    /// <summary>A function arrived (on the placing family's thread): an export waiting for its address starts serving it.</summary>
    private void OnAdded(IDeviceModel device)
    {
        lock (_exports)
        {
            Export? export = _exports.Find(e => e.Server is null && e.Option.Address == device.Function.Address);
            if (export is null) return;
            try
            {
                Listen(export, device);
                _console.WriteLine($"{device.Function.Address.Short} ({device.Kind}) hot-added: vfio-user on {export.Option.SocketPath}");
            }
            catch (UserErrorException e)
            {
                _console.WriteLine($"{device.Function.Address.Short} ({device.Kind}) hot-added but not exported: {e.Message}");
            }
        }
    }

    /// <summary>A function left: its server stops, putting out a connected guest, and the export waits for the address again.</summary>
    /// <remarks>The server is stopped outside the lock: its thread resets the device as its client goes, and a reset that
    /// removed a function in turn (a PF's VFs) would otherwise wait for this lock while this thread waits for it.</remarks>
    private void OnRemoved(IDeviceModel device)
    {
        Export? export;
        VfioUserServer? server;
        lock (_exports)
        {
            export = _exports.Find(e => e.Device == device);
            server = export?.Server;
            if (export is null || server is null) return;
            export.Server = null;
            export.Device = null;
        }
        bool connected = server.Connected;
        server.Dispose();
        lock (_exports)
        {
            export.PastClients += server.Clients;
            export.LastClose = connected ? "the function was hot-removed" : server.LastCloseReason ?? export.LastClose;
            _console.WriteLine($"{device.Function.Address.Short} ({device.Kind}) hot-removed: vfio-user on {export.Option.SocketPath} closed"
                + (connected ? ", its client put out" : "") + "; waits for a function there again");
        }
    }

    /// <summary>Stops the export's server, keeping what it counted.</summary>
    private static void StopServer(Export export)
    {
        VfioUserServer server = export.Server!;
        export.Server = null;
        export.Device = null;
        server.Dispose();
        export.PastClients += server.Clients;
        export.LastClose = server.LastCloseReason ?? export.LastClose;
    }

    /// <summary>One line per exported function: its socket, whether a guest is connected (or no function is there yet), its
    /// DMA mappings and faults, and why the last client was put out.</summary>
    public void AppendState(StringBuilder text)
    {
        lock (_exports)
            foreach (Export e in _exports)
            {
                string state = e.Server is { } s ? (s.Connected ? "connected" : "waiting") : "no function" + (e.PlacedBy is { } by ? $" (waits for one of {by})" : "");
                text.Append($"{e.Option.Address.Short} vfio-user {e.Option.SocketPath}: {state}, clients {e.Clients}, "
                    + $"mappings {e.Guest.Mappings.Count}, DMA faults {e.Guest.Domain.Faults}, last close {e.LastCloseReason ?? "-"}\n");
            }
    }

    /// <summary>The same as JSON, one object per function (<c>kind</c> null while no function is there).</summary>
    public JsonArray ToJson()
    {
        var all = new JsonArray();
        lock (_exports)
            foreach (Export e in _exports)
                all.Add(new JsonObject
                {
                    ["function"] = e.Option.Address.Short, ["kind"] = e.Device?.Kind, ["socket"] = e.Option.SocketPath, ["present"] = e.Server is not null,
                    ["connected"] = e.Server?.Connected ?? false, ["clients"] = e.Clients, ["mappings"] = e.Guest.Mappings.Count,
                    ["dma_faults"] = e.Guest.Domain.Faults, ["last_close"] = e.LastCloseReason,
                });
        return all;
    }

    /// <summary>Stops every server (a connected guest loses its device), then closes the trace and removes the folders made.</summary>
    public void Dispose()
    {
        _machine.DeviceAdded -= OnAdded;
        _machine.DeviceRemoved -= OnRemoved;
        foreach (Export e in _exports.Where(e => e.Server is not null)) StopServer(e); // no event changes them now
        _trace?.Dispose(); // and its stream
        foreach (string dir in _madeDirectories.Distinct())
        {
            try { Directory.Delete(dir); }
            catch (IOException) { } // something else put a file there: leave it
        }
    }

    /// <summary>One <c>--export</c>: its server while its function is on the machine, and what earlier servers counted.</summary>
    /// <param name="PlacedBy">What places functions at the address while the machine runs, or null.</param>
    private sealed class Export(ExportOption option, GuestMemory guest, string? placedBy)
    {
        public ExportOption Option { get; } = option;
        public GuestMemory Guest { get; } = guest;
        public string? PlacedBy { get; } = placedBy;
        public VfioUserServer? Server { get; set; }
        public IDeviceModel? Device { get; set; }
        public long PastClients { get; set; }
        public string? LastClose { get; set; }

        public long Clients => PastClients + (Server?.Clients ?? 0);

        public string? LastCloseReason => Server?.LastCloseReason ?? LastClose;
    }
}
