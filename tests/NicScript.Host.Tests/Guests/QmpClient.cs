using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace NicScript.Host.Tests.Guests;

/// <summary>QEMU's machine protocol (QMP) on its Unix socket: one JSON object a line; each command is answered, in
/// order, by a <c>return</c> or an <c>error</c>, with asynchronous <c>event</c>s in between, which are kept for
/// <see cref="WaitForEvent"/> (a hot-unplug completes with <c>DEVICE_DELETED</c> after <c>device_del</c> returned).</summary>
internal sealed class QmpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly Queue<JsonObject> _events = new();

    private QmpClient(Socket socket)
    {
        _socket = socket;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(stream, Encoding.UTF8);
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
    }

    /// <summary>Connects (QEMU creates the socket while it starts: retried until <paramref name="timeout"/>), reads the
    /// greeting and leaves capabilities negotiation, so commands may follow.</summary>
    public static QmpClient Connect(string path, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                var client = new QmpClient(socket);
                client.Read(deadline); // {"QMP": {...}}
                client.Execute("qmp_capabilities");
                return client;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> and returns its <c>return</c> value; QEMU's <c>error</c> throws with
    /// QEMU's description.</summary>
    public JsonNode? Execute(string command, JsonObject? arguments = null, TimeSpan? timeout = null)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        _writer.WriteLine(request.ToJsonString());
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            JsonObject reply = Read(deadline);
            if (reply.ContainsKey("event")) { _events.Enqueue(reply); continue; }
            if (reply["error"] is JsonObject error)
                throw new InvalidOperationException($"QMP {command}: {error["class"]}: {error["desc"]}");
            return reply["return"];
        }
    }

    /// <summary>The first event named <paramref name="name"/> since connecting that was not waited for yet, or null when
    /// none came within <paramref name="timeout"/>.</summary>
    public JsonObject? WaitForEvent(string name, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            while (_events.TryDequeue(out JsonObject? seen))
                if ((string?)seen["event"] == name) return seen;
            try { _events.Enqueue(Read(deadline)); }
            catch (TimeoutException) { return null; }
        }
    }

    private JsonObject Read(DateTime deadline)
    {
        int left = (int)Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds);
        _socket.ReceiveTimeout = left;
        string? line;
        try { line = _reader.ReadLine(); }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            throw new TimeoutException("QMP: no message in time", e);
        }
        if (line is null) throw new IOException("QMP: QEMU closed the socket");
        return JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException("QMP: not an object: " + line);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _reader.Dispose();
    }
}
