using System.Text;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>
/// A network device in the <c>fuchsia.hardware.network</c> sense: ports, sessions and their FIFOs over one emulated NIC
/// (reference/netdevice.md). This object is both the device's state and the client's <c>Device</c> channel.
/// </summary>
/// <remarks>
/// Design: one lock (<see cref="Sync"/>) guards the device, its NIC, its sessions and ports; every call takes it and then
/// runs <see cref="Pump"/>, which serves FIFOs until nothing moves — so a FIFO write is handled before the call returns
/// and tests need no timing. Hanging calls complete tasks created with <c>RunContinuationsAsynchronously</c>, so no
/// script code ever runs under the lock. Data bytes move by span between DMA regions: a frame is copied at most once
/// per receiving session and never for the primary session, whose buffers the NIC fills in place.
/// </remarks>
public sealed partial class Device : NetProxy
{
    internal readonly object Sync = new();
    private readonly List<Session> _sessions = new();
    private readonly DevicePort?[] _ports = new DevicePort?[NetConstants.MAX_PORTS];
    private readonly List<PortWatcher> _watchers = new();
    private Session? _primary;
    private int _nextSession;
    private bool _pumping, _pumpAgain;

    public Device(string name, NicConfig config, INicUplink? uplink = null)
    {
        if (config.Validate() is { } bad) throw new ArgumentException($"{bad.Field}: {bad.Rule}", nameof(config));
        Name = name;
        Config = config;
        Info = new DeviceInfo(NetConstants.MinDescriptorLength, NetConstants.DescriptorVersion, FifoDepth(config.RxDepth), FifoDepth(config.TxDepth),
            config.BufferAlignment, config.MaxBufferLength, config.MinRxBufferLength, config.MinTxBufferLength, config.MinTxBufferHead,
            config.MinTxBufferTail, (byte)config.MaxBufferParts, [.. config.RxAccel], [.. config.TxAccel]);
        Nic = new NicEmulator(this, uplink);
        foreach (PortConfig p in config.Ports) _ports[p.Id] = new DevicePort(p);
        Nic.AttachUplink();
    }

    /// <summary>The PCI address (or other name) the device was made for.</summary>
    [ScriptApi] public string Name { get; }

    public NicConfig Config { get; }

    internal DeviceInfo Info { get; }

    /// <summary>The device side (the NIC the layer drives), with the test surface of reference §8.6.</summary>
    public NicEmulator Nic { get; }

    /// <summary>True from the start of teardown: the device takes no new calls.</summary>
    public bool TearingDown { get; private set; }

    /// <summary>True once teardown finished: every session has its epitaph.</summary>
    public bool Gone { get; private set; }

    /// <summary>Raised (under the lock) when teardown has finished.</summary>
    public event Action<Device>? TornDown;

    /// <summary>FIFO depth a client sees: twice the hardware depth, at most a page of entries (§3.3).</summary>
    private static ushort FifoDepth(int hw) => (ushort)Math.Min(2 * hw, NetConstants.MaxFifoDepth);

    [ScriptApi]
    public DeviceInfo GetInfo()
    {
        lock (Sync)
        {
            ThrowIfClosed("GetInfo");
            return Info;
        }
    }

    /// <summary>A channel to port <paramref name="id"/>; closed with ZX_ERR_NOT_FOUND when there is no such port.</summary>
    [ScriptApi]
    public Port GetPort(byte id)
    {
        lock (Sync)
        {
            ThrowIfClosed("GetPort");
            DevicePort? port = id < NetConstants.MAX_PORTS ? _ports[id] : null;
            var proxy = new Port(this, port);
            if (port is null) proxy.CloseChannel(ZxStatus.ZX_ERR_NOT_FOUND);
            else
            {
                port.Proxies.RemoveAll(x => x.IsClosed);
                port.Proxies.Add(proxy);
            }
            return proxy;
        }
    }

    [ScriptApi]
    public PortWatcher GetPortWatcher()
    {
        lock (Sync)
        {
            ThrowIfClosed("GetPortWatcher");
            var w = new PortWatcher(this, PortIds());
            _watchers.RemoveAll(x => x.IsClosed); // closed watchers (too many events, BAD_STATE) are not kept
            _watchers.Add(w);
            return w;
        }
    }

    /// <summary>Opens a session (checks of reference §4.1, in order); throws <see cref="ZxException"/>.</summary>
    [ScriptApi]
    public OpenSessionResult OpenSession(string name, SessionInfo info)
    {
        lock (Sync)
        {
            ThrowIfClosed("OpenSession");
            if (TearingDown) Fail(ZxStatus.ZX_ERR_UNAVAILABLE, "the device is being torn down");
            name ??= "";
            if (Encoding.UTF8.GetByteCount(name) > NetConstants.MAX_SESSION_NAME)
                Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"name is {Encoding.UTF8.GetByteCount(name)} bytes, at most {NetConstants.MAX_SESSION_NAME}");
            if (info.Descriptors is null || info.Data is null || info.DescriptorVersion is null || info.DescriptorLength is null || info.DescriptorCount is null)
                Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "descriptors, data, descriptorVersion, descriptorLength and descriptorCount are required; missing: " + Missing(info));
            if (info.DescriptorVersion != NetConstants.DescriptorVersion)
                Fail(ZxStatus.ZX_ERR_NOT_SUPPORTED, $"descriptor version {info.DescriptorVersion} (this device speaks version {NetConstants.DescriptorVersion})");
            SessionFlags flags = info.Options ?? 0;
            if (((ushort)flags & ~0x0007) != 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"options 0x{(ushort)flags:x4} has bits outside PRIMARY | LISTEN_TX | REPORT_INVALID_RX");
            int words = info.DescriptorLength!.Value, count = info.DescriptorCount!.Value;
            if (words < NetConstants.MinDescriptorLength) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"descriptorLength {words} is below the minimum {NetConstants.MinDescriptorLength}");
            if (count == 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "descriptorCount is 0");
            DmaRegion descriptors = info.Descriptors!.Region, data = info.Data!.Region;
            if (descriptors.IsFreed || data.IsFreed) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "a region was freed");
            if (!ReferenceEquals(descriptors.Owner, data.Owner)) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "the descriptors and data regions have different owners");
            long needed = (long)count * words * 8;
            if (descriptors.Length < needed) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"the descriptors region has {descriptors.Length} bytes, {count} × {words * 8} = {needed} needed");
            if (data.Length == 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "the data region is empty");
            if (_sessions.Count >= NetConstants.MAX_VMOS) Fail(ZxStatus.ZX_ERR_NO_RESOURCES, $"{NetConstants.MAX_VMOS} sessions are open on this device");
            int depth = Math.Min(Info.RxDepth, Info.TxDepth);
            var session = new Session(this, _nextSession = (_nextSession + 1) & 0xFFFF, name, flags, descriptors, data, count, words, depth);
            _sessions.Add(session);
            if (session.IsPrimaryCandidate) SelectPrimary();
            return new OpenSessionResult(session, session.Fifos);
        }

        static string Missing(SessionInfo i) => string.Join(", ", new[]
        {
            i.Descriptors is null ? "descriptors" : null, i.Data is null ? "data" : null, i.DescriptorVersion is null ? "descriptorVersion" : null,
            i.DescriptorLength is null ? "descriptorLength" : null, i.DescriptorCount is null ? "descriptorCount" : null,
        }.Where(s => s is not null));
    }

    private static void Fail(ZxStatus status, string why) => throw new ZxException(status, "OpenSession: " + why);

    internal IEnumerable<byte> PortIds()
    {
        for (int i = 0; i < _ports.Length; i++)
            if (_ports[i] is not null) yield return (byte)i;
    }

    internal DevicePort? PortOf(byte id) => id < NetConstants.MAX_PORTS ? _ports[id] : null;

    internal bool PortActive(byte id) => id < NetConstants.MAX_PORTS && _sessions.Any(s => s.Running && s.Attached[id]);

    internal void Attach(Session s, byte port, FrameType[] rxFrames)
    {
        lock (Sync)
        {
            if (s.Closing) throw new ZxException(ZxStatus.ZX_ERR_CANCELED, "Session.Attach: the session is closed");
            if (port >= NetConstants.MAX_PORTS) throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"Session.Attach: port {port} is not a port id (below {NetConstants.MAX_PORTS})");
            rxFrames ??= [];
            if (rxFrames.Length > NetConstants.MAX_FRAME_TYPES)
                throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"Session.Attach: {rxFrames.Length} frame types, at most {NetConstants.MAX_FRAME_TYPES}");
            DevicePort p = _ports[port] ?? throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"Session.Attach: no port {port}");
            foreach (FrameType t in rxFrames)
                if (!p.Config.RxTypes.Contains(t))
                    throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"Session.Attach: port {port} does not receive frame type {(Enum.IsDefined(t) ? t.ToString() : ((byte)t).ToString())}");
            if (s.Attached[port]) throw new ZxException(ZxStatus.ZX_ERR_ALREADY_BOUND, $"Session.Attach: already attached to port {port}");
            s.Attached[port] = true;
            s.RxFrames[port] = [.. rxFrames];
            s.AttachedCount++;
            SelectPrimary();
            Pump();
        }
    }

    internal void Detach(Session s, byte port)
    {
        lock (Sync)
        {
            if (s.Closing) throw new ZxException(ZxStatus.ZX_ERR_CANCELED, "Session.Detach: the session is closed");
            if (port >= NetConstants.MAX_PORTS) throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"Session.Detach: port {port} is not a port id (below {NetConstants.MAX_PORTS})");
            if (!s.Attached[port]) throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"Session.Detach: not attached to port {port}");
            DetachLocked(s, port);
            SelectPrimary();
            Pump();
        }
    }

    private static void DetachLocked(Session s, byte port)
    {
        s.Attached[port] = false;
        s.RxFrames[port] = [];
        s.AttachedCount--;
    }

    /// <summary>Closes <paramref name="s"/> for <paramref name="reason"/>: detached at once, epitaph when every buffer is back (caller holds the lock).</summary>
    internal void CloseSession(Session s, ZxStatus reason)
    {
        if (s.Closing) return;
        s.Closing = true;
        s.CloseReasonStatus = reason;
        for (byte p = 0; p < NetConstants.MAX_PORTS; p++)
            if (s.Attached[p]) DetachLocked(s, p);
        while (s.Ready.Count > 0) s.Held[s.Ready.PopFront()] = Session.Free;
        s.Fifos.Tx.ToDevice.Clear();
        s.Fifos.Rx.ToDevice.Clear();
        SelectPrimary();
        MaybeFinishClose(s);
        Pump();
    }

    private void MaybeFinishClose(Session s)
    {
        if (!s.Closing || s.IsClosed || !s.HoldsNothing) return;
        _sessions.Remove(s);
        s.CloseChannel(ZxStatus.ZX_ERR_CANCELED);
        s.Fifos.Rx.WakeReaders();
        s.Fifos.Tx.WakeReaders();
        if (TearingDown && _sessions.Count == 0) FinishTeardown();
    }

    /// <summary>Re-makes the primary choice (§3.4) and starts or stops the NIC to match.</summary>
    private void SelectPrimary()
    {
        Session? best = _primary is { IsPrimaryCandidate: true } ? _primary : null;
        foreach (Session s in _sessions)
        {
            if (!s.IsPrimaryCandidate || s == best) continue;
            if (best is null || (s.Running && !best.Running) || (s.Running == best.Running && s.DescriptorCount > best.DescriptorCount)) best = s;
        }
        if (best != _primary)
        {
            if (_primary is { Closing: false } old) Nic.Reclaim(old); // its buffers go back to it; the new primary's go to the NIC
            _primary = best;
        }
        bool run = _primary is { Running: true };
        if (run && !Nic.Started) Nic.Start();
        else if (!run && Nic.Started) Nic.Stop();
    }

    // ---- ports, from the NIC side ----

    internal void AddPort(PortConfig config)
    {
        if (config.Id >= NetConstants.MAX_PORTS) throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"AddPort: port id {config.Id} is not below {NetConstants.MAX_PORTS}");
        if (_ports[config.Id] is not null) throw new ZxException(ZxStatus.ZX_ERR_ALREADY_EXISTS, $"AddPort: port {config.Id} exists");
        if (config.Validate() is { } bad) throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"AddPort: {bad.Field} {bad.Rule}");
        _ports[config.Id] = new DevicePort(config);
        foreach (PortWatcher w in _watchers) w.Queue(new DevicePortEvent("added", config.Id));
    }

    internal void RemovePort(byte id)
    {
        DevicePort port = PortOf(id) ?? throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"RemovePort: no port {id}");
        _ports[id] = null;
        foreach (PortWatcher w in _watchers) w.Queue(new DevicePortEvent("removed", id));
        ClosePortChannels(port, ZxStatus.ZX_ERR_CANCELED);
        foreach (Session s in _sessions)
            if (s.Attached[id]) DetachLocked(s, id);
        SelectPrimary();
        Pump();
    }

    private static void ClosePortChannels(DevicePort port, ZxStatus? statusEpitaph)
    {
        foreach (StatusWatcher w in port.StatusWatchers) w.CloseChannel(statusEpitaph);
        foreach (Port p in port.Proxies) p.CloseChannel(null);
        if (port.Mac is { } mac)
        {
            foreach (MacAddressing c in mac.Clients) c.CloseChannel(null);
            mac.Clients.Clear();
        }
        port.StatusWatchers.Clear();
        port.Proxies.Clear();
    }

    internal void SetStatus(byte id, PortStatus status)
    {
        DevicePort port = PortOf(id) ?? throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"SetStatus: no port {id}");
        port.Status = status;
        foreach (StatusWatcher w in port.StatusWatchers) w.Push(status);
    }

    /// <summary>Hot-unplug: the device closes its channels now and each session once its buffers are back (ND-26).</summary>
    internal void Teardown()
    {
        if (TearingDown) return;
        TearingDown = true;
        CloseChannel(null);
        foreach (PortWatcher w in _watchers) w.CloseChannel(null);
        _watchers.Clear();
        foreach (DevicePort? p in _ports)
            if (p is not null) ClosePortChannels(p, null);
        foreach (Session s in _sessions.ToArray()) CloseSession(s, ZxStatus.ZX_ERR_UNAVAILABLE);
        if (_sessions.Count == 0) FinishTeardown();
    }

    private void FinishTeardown()
    {
        if (Gone) return;
        Gone = true;
        Nic.DetachUplink();
        TornDown?.Invoke(this);
    }

    public override string ToString() => $"netdevice {Name}";
}
