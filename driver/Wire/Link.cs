namespace NicScript.Driver.Wire;

/// <summary>A wire joining device ports: loopback, a pair, a learning switch, or a TAP device to the Linux stack.</summary>
/// <remarks>
/// Design: a port's <see cref="WirePort.Transmit"/> passes the frame through the link's capture (pcap) and fault
/// injection, then <see cref="Route"/> hands it synchronously to the receiving port(s), which copy it into their
/// posted buffers: a frame is copied once on its way from one DMA buffer to another. Links are thread-safe for
/// transmits from several devices; a receiver is called on the transmitter's thread (or the TAP reader's).
/// </remarks>
public abstract class Link : IDisposable
{
    private readonly object _sync = new();
    private WirePort[] _ports = [];
    private FaultInjector? _faults;
    private ICaptureSink? _capture;
    private long _droppedNoCarrier;
    private volatile bool _carrier = true;

    protected Link(string name) => Name = name;

    public string Name { get; }

    public IReadOnlyList<WirePort> Ports => Volatile.Read(ref _ports);

    /// <summary>True when a frame a port sends comes back to that same port (loopback): its device may keep its receive
    /// path locked while it transmits. On any other link a transmitting device must hold no lock its receive path takes.</summary>
    public virtual bool ReturnsToSender => false;

    /// <summary>How many ports the link takes (1 for loopback and TAP, 2 for a pair, many for a switch).</summary>
    public abstract int MaxPorts { get; }

    public bool Carrier => _carrier;

    /// <summary>Frames dropped because the link was down.</summary>
    public long DroppedNoCarrier => Interlocked.Read(ref _droppedNoCarrier);

    public FaultInjector? Faults => _faults;

    /// <summary>Plugs a device in.</summary>
    /// <exception cref="InvalidOperationException">The link has no free port.</exception>
    public WirePort Attach(IFrameReceiver receiver)
    {
        lock (_sync)
        {
            int free = Array.FindIndex(_ports, p => p.Unplugged);
            if (free >= 0)
            {
                var again = new WirePort(this, free, receiver); // a hot-removed device's place is taken by the next one
                WirePort[] ports = [.. _ports];
                ports[free] = again;
                Volatile.Write(ref _ports, ports);
                return again;
            }
            if (_ports.Length >= MaxPorts) throw new InvalidOperationException($"wire {Name} has no free port ({MaxPorts} max)");
            var port = new WirePort(this, _ports.Length, receiver);
            Volatile.Write(ref _ports, [.. _ports, port]);
            return port;
        }
    }

    /// <summary>Unplugs a device (hot-removal): frames for its port go nowhere and the place can be taken again.</summary>
    public void Detach(WirePort port)
    {
        lock (_sync)
        {
            int at = Array.IndexOf(_ports, port);
            if (at < 0) return;
            WirePort[] ports = [.. _ports];
            ports[at] = new WirePort(this, at, Unplug.Instance) { Unplugged = true };
            Volatile.Write(ref _ports, ports);
        }
    }

    private sealed class Unplug : IFrameReceiver
    {
        public static readonly Unplug Instance = new();

        public void Receive(ReadOnlySpan<byte> frame)
        {
        }
    }

    /// <summary>Injects faults into every frame from now on (null: none).</summary>
    public void InjectFaults(FaultInjector? faults) => _faults = faults;

    /// <summary>Writes every frame on the link to a pcap file from now on (null: stop).</summary>
    public void Capture(ICaptureSink? writer) => _capture = writer;

    /// <summary>Carrier on or off (a pulled cable); while off, frames are dropped and counted.</summary>
    public void SetCarrier(bool up)
    {
        if (_carrier == up) return;
        _carrier = up;
        CarrierChanged?.Invoke(this);
    }

    /// <summary>Raised on the thread that changed the carrier, after the change (a link monitor notes the time).</summary>
    public event Action<Link>? CarrierChanged;

    internal void Send(WirePort from, ReadOnlySpan<byte> frame)
    {
        if (!_carrier)
        {
            Interlocked.Increment(ref _droppedNoCarrier);
            return;
        }
        _capture?.Write(frame);
        if (_faults is { } faults) faults.Apply(from, frame, this);
        else Route(from, frame);
    }

    /// <summary>A burst from <paramref name="from"/>: routed as one when nothing looks at single frames (no capture, no fault
    /// injection), else frame by frame exactly as <see cref="Send"/> does.</summary>
    internal void SendBurst(WirePort from, FrameBatch frames)
    {
        if (!_carrier)
        {
            Interlocked.Add(ref _droppedNoCarrier, frames.Count);
            return;
        }
        if (_capture is null && _faults is null) RouteBurst(from, frames);
        else
            for (int i = 0; i < frames.Count; i++) Send(from, frames[i]);
    }

    /// <summary>Hands a burst from <paramref name="from"/> to its destination(s); by default frame by frame.</summary>
    protected internal virtual void RouteBurst(WirePort from, FrameBatch frames)
    {
        for (int i = 0; i < frames.Count; i++) Route(from, frames[i]);
    }

    /// <summary>A frame arriving from outside the machine (a TAP device): captured, then delivered to port 0.</summary>
    protected void Inbound(ReadOnlySpan<byte> frame)
    {
        IReadOnlyList<WirePort> ports = Ports;
        if (ports.Count == 0 || !_carrier) return;
        _capture?.Write(frame);
        ports[0].Deliver(frame);
    }

    /// <summary>Hands a frame from <paramref name="from"/> to its destination port(s).</summary>
    protected internal abstract void Route(WirePort from, ReadOnlySpan<byte> frame);

    /// <summary>Releases frames the fault injector holds (delay, reorder) whose time has come.</summary>
    public void Poll() => _faults?.Release(this);

    public virtual void Dispose()
    {
        _faults?.Discard();
        (_capture as PcapWriter)?.Flush();
    }
}
