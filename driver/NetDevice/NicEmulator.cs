using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>A tx frame in flight from a session to the NIC: up to 4 parts of the session's data region (pooled, never allocated per frame).</summary>
internal sealed class TxFrame
{
    public uint Id;
    public Session? Session;
    public byte Port;
    public FrameType Type;
    public uint Flags;
    public int Parts, Total;
    public ushort HeadLength, TailLength;
    public readonly ushort[] Index = new ushort[NetConstants.MAX_DESCRIPTOR_CHAIN];
    public readonly long[] Offset = new long[NetConstants.MAX_DESCRIPTOR_CHAIN];
    public readonly int[] Length = new int[NetConstants.MAX_DESCRIPTOR_CHAIN];

    /// <summary>True while the session's client still owns its data region: the frame's bytes may be read.</summary>
    public bool Readable => !Session!.DataSpan.IsEmpty;

    /// <summary>Copies the payload (parts in chain order) into <paramref name="into"/>, which holds at least <see cref="Total"/>
    /// bytes; false, copying nothing, when the data region left the session's client since the frame was queued.</summary>
    public bool TryCopyTo(Span<byte> into)
    {
        Span<byte> data = Session!.DataSpan;
        if (data.IsEmpty) return false; // nothing of it is read
        int at = 0;
        for (int k = 0; k < Parts; k++)
        {
            data.Slice((int)Offset[k], Length[k]).CopyTo(into[at..]);
            at += Length[k];
        }
        return true;
    }

    /// <summary>The payload, or an empty array when the data region left the session's client.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Total];
        return TryCopyTo(bytes) ? bytes : [];
    }
}

/// <summary>
/// The device side of a netdevice (the banjo <c>NetworkDeviceImpl</c> role): holds rx space and tx frames, sends on its
/// function's wire through an <see cref="INicUplink"/>, and offers the test surface of reference §8.6.
/// </summary>
public sealed class NicEmulator
{
    private readonly DeviceInterface _device;
    private readonly INicUplink? _uplink;
    private readonly RxSpaceRing _rx = new();
    private readonly List<TxFrame> _held = new();
    private readonly Stack<TxFrame> _framePool = new();
    private readonly TxFrame[] _staged;
    private int _stagedCount;
    private readonly List<SentFrame> _sent = new();
    private readonly ushort[] _chain = new ushort[NetConstants.MAX_BUFFER_PARTS];
    private readonly int[] _fill = new int[NetConstants.MAX_BUFFER_PARTS];
    private bool _holdTx, _deferStop;
    private byte? _uplinkPort;

    internal NicEmulator(DeviceInterface device, INicUplink? uplink)
    {
        _device = device;
        _uplink = uplink;
        _serve = new PumpWorkItem(device);
        _staged = new TxFrame[Math.Max(1, uplink?.BurstCapacity ?? 1)];
        for (int i = 0; i < device.Config.TxDepth + 1; i++) _framePool.Push(new TxFrame());
        CaptureSent = uplink is null; // a NIC without a wire is observed only through SentFrames
    }

    private object Sync => _device.Sync;

    /// <summary>True while some running primary session keeps the NIC started (§3.2).</summary>
    [ScriptApi] public bool Started { get; private set; }

    /// <summary>A deferred stop is waiting for <see cref="FinishStop"/>.</summary>
    [ScriptApi] public bool StopPending { get; private set; }

    /// <summary>Whether frames that leave are also kept for <see cref="SentFrames"/> (always on for a NIC without a wire).</summary>
    public bool CaptureSent { get; set; }

    /// <summary>Frames sent and received on the function's wire (uplink), for metrics.</summary>
    public long UplinkTxFrames { get; private set; }
    public long UplinkRxFrames { get; private set; }
    public long UplinkRxFiltered { get; private set; }

    internal int TxRoom => _device.Config.TxDepth - _held.Count - _stagedCount;
    internal int RxHeldCount => _rx.Count;

    [ScriptApi] public bool PortActive(byte id)
    {
        lock (Sync) return _device.PortActive(id);
    }

    [ScriptApi]
    public MacState? MacState(byte id)
    {
        lock (Sync) return _device.PortOf(id)?.Mac?.State;
    }

    // ---- ports and status ----

    public void AddPort(PortConfig config)
    {
        lock (Sync) _device.AddPort(config);
    }

    /// <summary>Adds port <paramref name="id"/> (fields as in a machine file's port: class, rxTypes, txTypes, mac, macModes, multicastFilterCount, online, mtu).</summary>
    [ScriptApi]
    public void AddPort(byte id, PortOptions options) => AddPort(options.ToConfig(id));

    [ScriptApi]
    public void RemovePort(byte id)
    {
        lock (Sync) _device.RemovePort(id);
    }

    public void SetStatus(byte id, bool online, uint mtu)
    {
        lock (Sync)
        {
            _device.SetStatus(id, new PortStatus(online ? StatusFlags.ONLINE : 0, mtu));
            _device.Pump();
        }
    }

    /// <summary><c>{ online, mtu }</c>; a missing field keeps its value.</summary>
    [ScriptApi]
    public void SetStatus(byte id, PortStatusUpdate status)
    {
        PortStatus now;
        lock (Sync) now = (_device.PortOf(id) ?? throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"SetStatus: no port {id}")).Status;
        SetStatus(id, status.Online ?? (now.Flags & StatusFlags.ONLINE) != 0, status.Mtu ?? now.Mtu);
    }

    // ---- receive ----

    /// <summary>The NIC receives <paramref name="frame"/> on <paramref name="port"/> as if from hardware (no MAC filter) into the oldest rx buffers it holds.</summary>
    public bool InjectRx(byte port, ReadOnlySpan<byte> frame, FrameType frameType = FrameType.ETHERNET, RxFlags flags = 0)
    {
        lock (Sync)
        {
            bool ok = Receive(port, frame, frameType, (uint)flags);
            _device.Pump();
            return ok;
        }
    }

    /// <summary><c>emu.injectRx(port, bytes, { frameType, flags })</c>.</summary>
    [ScriptApi]
    public bool InjectRx(byte port, byte[] frame, RxInjectOptions? options = null) =>
        InjectRx(port, frame, options?.FrameType ?? FrameType.ETHERNET, options?.Flags ?? 0);

    /// <summary>A frame arrives from the wire on <paramref name="port"/>: it passes the effective MAC filter first.</summary>
    [ScriptApi]
    public bool FromWire(byte port, byte[] frame) => FromWire(port, frame.AsSpan());

    public bool FromWire(byte port, ReadOnlySpan<byte> frame)
    {
        lock (Sync)
        {
            bool ok = FromWireLocked(port, frame);
            _device.Pump();
            return ok;
        }
    }

    private bool FromWireLocked(byte port, ReadOnlySpan<byte> frame)
    {
        DevicePort? p = _device.PortOf(port);
        if (p is null || frame.Length < 14) return false;
        if (p.Mac is { } mac && !mac.Accepts(frame[..6]))
        {
            UplinkRxFiltered++;
            return false;
        }
        return Receive(port, frame, FrameType.ETHERNET, 0);
    }

    private bool Receive(byte port, ReadOnlySpan<byte> frame, FrameType type, uint flags)
    {
        DevicePort? p = _device.PortOf(port);
        if (!Started || p is null || !p.Online || _rx.Count == 0) return false;
        Session owner = _rx[0].Session;
        int n = 0;
        long room = 0;
        while (n < _device.Config.MaxBufferParts && n < _rx.Count && _rx[n].Session == owner && (room < frame.Length || n == 0))
        {
            room += owner.PostRoom[_rx[n].Index];
            n++;
        }
        if (room < frame.Length) return false;
        Span<byte> data = owner.DataSpan;
        if (data.IsEmpty) return false; // the data region left the session's client: nothing is written into it
        int at = 0, used = 0;
        do
        {
            ushort index = _rx[used].Index;
            int chunk = (int)Math.Min(owner.PostRoom[index], frame.Length - at);
            if (chunk > 0) frame.Slice(at, chunk).CopyTo(data.Slice((int)owner.PostStart[index], chunk));
            _chain[used] = index;
            _fill[used] = chunk;
            at += chunk;
            used++;
        }
        while (at < frame.Length);
        _rx.RemoveFront(used);
        _device.CompleteRx(owner, _chain.AsSpan(0, used), _fill.AsSpan(0, used), port, type, flags);
        return true;
    }

    /// <summary>Ids of the rx buffers the NIC holds, oldest first.</summary>
    [ScriptApi]
    public uint[] HeldRx()
    {
        lock (Sync)
        {
            var ids = new uint[_rx.Count];
            for (int i = 0; i < ids.Length; i++) ids[i] = _rx[i].Session.BufferId(_rx[i].Index);
            return ids;
        }
    }

    /// <summary>Gives one held rx buffer back unfilled (length 0).</summary>
    [ScriptApi]
    public void ReturnRx(uint id)
    {
        lock (Sync)
        {
            int at = _rx.FindIndex(r => r.Session.BufferId(r.Index) == id);
            if (at < 0) throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"ReturnRx: the NIC holds no rx buffer {id}");
            ReturnRxAt(at);
            _device.Pump();
        }
    }

    private void ReturnRxAt(int at)
    {
        (Session s, ushort index) = _rx[at];
        _rx.RemoveAt(at);
        _chain[0] = index;
        _fill[0] = 0;
        _device.CompleteRx(s, _chain.AsSpan(0, 1), _fill.AsSpan(0, 1), 0, FrameType.ETHERNET, 0);
    }

    internal void AddRxSpace(Session s, ushort index) => _rx.Add(s, index);

    /// <summary>Takes every buffer of <paramref name="s"/> back (oldest first into its pool): it stopped being primary.</summary>
    internal void Reclaim(Session s)
    {
        for (int i = _rx.Count - 1; i >= 0; i--)
        {
            if (_rx[i].Session != s) continue;
            s.Held[_rx[i].Index] = Session.RxReady;
            s.RxAtNicCount--;
            s.Ready.TryPushFront(_rx[i].Index);
            _rx.RemoveAt(i);
        }
    }

    /// <summary>Takes the newest buffer of <paramref name="s"/> back, to copy a frame into it.</summary>
    internal bool ReclaimNewest(Session s, out ushort index)
    {
        for (int i = _rx.Count - 1; i >= 0; i--)
        {
            if (_rx[i].Session != s) continue;
            index = _rx[i].Index;
            _rx.RemoveAt(i);
            s.Held[index] = Session.RxReady;
            s.RxAtNicCount--;
            return true;
        }
        index = 0;
        return false;
    }

    // ---- transmit ----

    internal TxFrame RentTxFrame() => _framePool.Count > 0 ? _framePool.Pop() : new TxFrame();

    internal void ReturnTxFrame(TxFrame f)
    {
        f.Session = null;
        _framePool.Push(f);
    }

    internal void QueueTx(TxFrame f)
    {
        DevicePort? port = _device.PortOf(f.Port);
        uint? supported = port?.SupportedTxFlags(f.Type);
        if (!Started || port is null || !port.Online) _device.CompleteTx(f, ZxStatus.ZX_ERR_UNAVAILABLE);
        else if ((f.Flags & ~(supported ?? 0)) != 0) _device.CompleteTx(f, ZxStatus.ZX_ERR_NOT_SUPPORTED);
        else if (_holdTx) _held.Add(f);
        else Transmit(f, port);
    }

    private void Transmit(TxFrame f, DevicePort port)
    {
        if (!f.Readable)
        {
            // the data region left the client after the frame was fetched (freed, given away): a tx error, nothing read or sent
            _device.CompleteTx(f, ZxStatus.ZX_ERR_IO_INVALID);
            return;
        }
        if (CaptureSent) _sent.Add(new SentFrame(f.Port, f.Type, f.Flags, f.ToArray()));
        if (_uplink is null || !port.Config.Uplink)
        {
            _device.CompleteTx(f, ZxStatus.ZX_OK);
            return;
        }
        if (_stagedCount == _staged.Length) FlushUplink();
        Span<byte> buffer = _uplink.StageBuffer(_stagedCount);
        if (buffer.IsEmpty || f.Total > buffer.Length)
        {
            // no room in the function's ring (out of resources), or longer than its buffers (a plain error)
            _device.CompleteTx(f, buffer.IsEmpty ? ZxStatus.ZX_ERR_NO_RESOURCES : ZxStatus.ZX_ERR_INVALID_ARGS);
            return;
        }
        f.TryCopyTo(buffer); // readable: checked above, under the same lock
        _uplink.SetStagedLength(_stagedCount, f.Total);
        _staged[_stagedCount++] = f;
    }

    /// <summary>Hands the staged burst to the function; what it could not take completes with ZX_ERR_NO_RESOURCES.</summary>
    internal bool FlushUplink()
    {
        if (_stagedCount == 0 || _uplink is null) return false;
        int n = _stagedCount;
        _stagedCount = 0;
        int sent = _uplink.Flush(n);
        UplinkTxFrames += sent;
        for (int i = 0; i < n; i++)
        {
            TxFrame f = _staged[i];
            _staged[i] = null!;
            _device.CompleteTx(f, i < sent ? ZxStatus.ZX_OK : ZxStatus.ZX_ERR_NO_RESOURCES);
        }
        return true;
    }

    /// <summary>Takes what the function received (and its link state) when it has signalled.</summary>
    internal bool ServiceUplink()
    {
        if (_uplink is null || !_uplink.TakeSignal()) return false;
        int n = _uplink.Poll(this);
        if (_uplinkPort is { } port && _device.PortOf(port) is { } p && p.Online != _uplink.LinkUp)
            _device.SetStatus(port, new PortStatus(_uplink.LinkUp ? StatusFlags.ONLINE : 0, p.Status.Mtu));
        UplinkRxFrames += n;
        return n > 0;
    }

    /// <summary>A frame the function received (called by the uplink, under the device lock).</summary>
    internal void UplinkReceive(ReadOnlySpan<byte> frame)
    {
        if (_uplinkPort is { } port) FromWireLocked(port, frame);
    }

    internal void AttachUplink()
    {
        if (_uplink is null) return;
        _uplinkPort = _device.Config.Ports.FirstOrDefault(p => p.Uplink)?.Id;
        _uplink.Attach(this);
    }

    internal void DetachUplink() => _uplink?.Dispose();

    /// <summary>
    /// Called by the uplink from its interrupt (after it recorded the signal). Inside the pump (a loopback wire answering our own
    /// doorbell) the pump's next round serves it; otherwise a pool thread does, since an interrupt must not take the device lock.
    /// </summary>
    internal void Signal()
    {
        if (Monitor.IsEntered(Sync)) return;
        ThreadPool.UnsafeQueueUserWorkItem(_serve, preferLocal: false);
    }

    private readonly PumpWorkItem _serve;

    /// <summary>The pool work item that pumps the device (one instance: queueing it allocates nothing).</summary>
    private sealed class PumpWorkItem(DeviceInterface device) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            lock (device.Sync) device.Pump();
        }
    }

    /// <summary>Frames that left on the wire since the last call.</summary>
    [ScriptApi]
    public SentFrame[] SentFrames()
    {
        lock (Sync)
        {
            SentFrame[] all = [.. _sent];
            _sent.Clear();
            return all;
        }
    }

    /// <summary>Keep tx frames instead of completing them (until <see cref="CompleteTx"/> or a stop).</summary>
    [ScriptApi]
    public void HoldTx(bool hold)
    {
        lock (Sync)
        {
            _holdTx = hold;
            _device.Pump();
        }
    }

    [ScriptApi]
    public TxBufferInfo[] PendingTx()
    {
        lock (Sync) return _held.Select(f => new TxBufferInfo(f.Id, f.Port, f.Type, f.Flags, f.HeadLength, f.TailLength, f.ToArray())).ToArray();
    }

    /// <summary>Completes held frame <paramref name="id"/> with <paramref name="status"/> (a Zircon status name).</summary>
    [ScriptApi]
    public void CompleteTx(uint id, string status)
    {
        ZxStatus s = ZxException.Parse(status);
        lock (Sync)
        {
            int at = _held.FindIndex(f => f.Id == id);
            if (at < 0) throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"CompleteTx: the NIC holds no tx frame {id}");
            TxFrame f = _held[at];
            _held.RemoveAt(at);
            if (s == ZxStatus.ZX_OK && !f.Readable) s = ZxStatus.ZX_ERR_IO_INVALID; // its data left the client meanwhile: not sent
            if (s == ZxStatus.ZX_OK && CaptureSent) _sent.Add(new SentFrame(f.Port, f.Type, f.Flags, f.ToArray()));
            _device.CompleteTx(f, s);
            _device.Pump();
        }
    }

    /// <summary>Make a stop keep every held buffer until <see cref="FinishStop"/>.</summary>
    [ScriptApi]
    public void DeferStop(bool defer)
    {
        lock (Sync) _deferStop = defer;
    }

    [ScriptApi]
    public void FinishStop()
    {
        lock (Sync)
        {
            if (!StopPending) return;
            StopPending = false;
            ReturnAll();
            _device.Pump();
        }
    }

    /// <summary>Hot-unplug of the device: its channels close now, sessions as their buffers come back (ND-26).</summary>
    [ScriptApi]
    public void Remove()
    {
        lock (Sync) _device.Teardown();
    }

    internal void Start()
    {
        Started = true;
        StopPending = false;
        _uplink?.Start();
    }

    internal void Stop()
    {
        Started = false;
        FlushUplink();
        if (_deferStop) StopPending = true;
        else ReturnAll();
    }

    private void ReturnAll()
    {
        while (_held.Count > 0)
        {
            TxFrame f = _held[0];
            _held.RemoveAt(0);
            _device.CompleteTx(f, ZxStatus.ZX_ERR_UNAVAILABLE);
        }
        while (_rx.Count > 0) ReturnRxAt(0);
    }
}

/// <summary>Where an emulated NIC meets its PCI function: a staging burst for tx, a poll for rx, a signal from the interrupt.</summary>
public interface INicUplink : IDisposable
{
    /// <summary>How many frames one <see cref="Flush"/> can take.</summary>
    int BurstCapacity { get; }

    bool LinkUp { get; }

    /// <summary>Connects to the NIC (before any traffic); the uplink calls <c>Signal</c> when the function interrupts.</summary>
    void Attach(NicEmulator nic);

    /// <summary>Brings the function up (first start only).</summary>
    void Start();

    /// <summary>The buffer staged frame <paramref name="index"/> is copied into.</summary>
    Span<byte> StageBuffer(int index);

    void SetStagedLength(int index, int length);

    /// <summary>Sends the first <paramref name="count"/> staged frames in one burst; returns how many the function took.</summary>
    int Flush(int count);

    /// <summary>True once per interrupt (or whenever frames may be waiting).</summary>
    bool TakeSignal();

    /// <summary>Hands every received frame to the NIC; returns how many.</summary>
    int Poll(NicEmulator nic);
}
