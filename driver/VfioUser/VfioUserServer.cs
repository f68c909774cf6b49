using System.Net.Sockets;
using NicScript.Driver.Devices;

namespace NicScript.Driver.VfioUser;

/// <summary>Exports one emulated PCI function on a Unix socket speaking vfio-user (QEMU's <c>vfio-user-pci</c> connects to
/// it), so a guest's unmodified driver drives the device model.</summary>
/// <remarks>
/// Design: one listening socket and one thread per function; clients are served one after another on that thread (a
/// function has one bus, so one guest at a time; a second connection waits in the backlog until the first leaves, which is
/// what a hot re-add does). A client put out for a malformed message, or one that fails inside the server, ends only its
/// own session: the reason goes to the machine's device events as a <see cref="DeviceFault"/> (<c>vfio-user-closed</c>),
/// the device is reset and its guest memory unmapped, and the next client is accepted. Other functions have servers and
/// threads of their own. The device model must have been made with the guest memory's <see cref="GuestMemory.Domain"/>
/// as its DMA space (the machine's <c>ExportToGuest</c> arranges it for every family).
/// </remarks>
public sealed class VfioUserServer : IDisposable
{
    private readonly IDeviceModel _device;
    private readonly GuestMemory _guest;
    private readonly IDeviceEvents _events;
    private readonly IVfioUserTrace? _trace;
    private readonly Socket _listener;
    private readonly Thread _thread;
    private volatile UnixMessageSocket? _client;
    private volatile bool _stopping;
    private long _clients;

    /// <param name="socketPath">Where to listen; a socket left there by an earlier run is replaced, any other file is refused.</param>
    public VfioUserServer(IDeviceModel device, GuestMemory guest, string socketPath, IDeviceEvents events, IVfioUserTrace? trace = null)
    {
        _device = device;
        _guest = guest;
        _events = events;
        _trace = trace;
        SocketPath = socketPath;
        if (Libc.IsSocket(socketPath) is { } socket)
        {
            if (!socket) throw new IOException($"{socketPath} exists and is not a socket");
            File.Delete(socketPath);
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(4);
        _thread = new Thread(AcceptLoop) { IsBackground = true, Name = "vfio-user " + device.Function.Address };
        _thread.Start();
    }

    public string SocketPath { get; }

    /// <summary>Whether a client is connected now.</summary>
    public bool Connected => _client is not null;

    /// <summary>Clients served since the server started.</summary>
    public long Clients => Interlocked.Read(ref _clients);

    /// <summary>Why the last client was put out, or null when every client left of its own accord.</summary>
    public string? LastCloseReason { get; private set; }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket accepted;
            try
            {
                accepted = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // the listener closed: the server stops
            }
            Serve(accepted);
        }
    }

    private void Serve(Socket accepted)
    {
        using var socket = new UnixMessageSocket(accepted);
        Interlocked.Increment(ref _clients);
        _client = socket;
        if (_stopping) socket.Shutdown(); // Dispose ran between the accept and here
        string? reason;
        var session = new VfioUserSession(_device, _guest, socket, _events, _trace);
        reason = session.Serve();
        try
        {
            session.Dispose();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // our bug (a model's reset that threw, the machine disposed under us): the next client must still be served
            reason = (reason is null ? "" : reason + "; ") + $"cleaning up after the client failed: {e.GetType().Name}: {e.Message}";
        }
        _client = null;
        if (reason is not null)
        {
            LastCloseReason = reason;
            _events.Fault(new DeviceFault(_device.Function.Address.ToString(), "vfio-user-closed", reason));
        }
        _trace?.Record(new VfioUserTraceEvent(_device.Function.Address.ToString(), VfioUserTraceKind.Disconnect, 0, 0, 0, 0, reason));
    }

    /// <summary>Stops listening, puts out the client (its session cleans up) and removes the socket file.</summary>
    public void Dispose()
    {
        _stopping = true;
        _listener.Dispose();
        _client?.Shutdown();
        _thread.Join();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
            // gone already, or the directory went with the run
        }
    }
}
