namespace NicScript.Driver.NetDevice;

/// <summary>A port's state on the device side: configuration, status, MAC clients and the proxies that watch it.</summary>
internal sealed class DevicePort
{
    public DevicePort(PortConfig config)
    {
        Config = config;
        Status = new PortStatus(config.Online ? StatusFlags.ONLINE : 0, config.Mtu);
        Mac = config.Mac is null ? null : new MacFilter(config);
        Info = new PortInfo(config.Id, config.Class, [.. config.RxTypes], [.. config.TxTypes]);
    }

    public PortConfig Config { get; }
    public byte Id => Config.Id;
    public PortInfo Info { get; }
    public PortStatus Status { get; set; }
    public MacFilter? Mac { get; }
    public List<Port> Proxies { get; } = new();
    public List<StatusWatcher> StatusWatchers { get; } = new();

    public bool Online => (Status.Flags & StatusFlags.ONLINE) != 0;

    /// <summary>The TX_ACCEL bits the port accepts for <paramref name="type"/>, or null when it does not send that type.</summary>
    public uint? SupportedTxFlags(FrameType type)
    {
        foreach (FrameTypeSupport t in Config.TxTypes)
            if (t.Type == type) return t.SupportedFlags;
        return null;
    }
}

/// <summary>A client's channel to one port: <c>GetInfo</c>, <c>GetStatus</c>, <c>GetStatusWatcher</c>, <c>GetMac</c>.</summary>
public sealed class Port : NetProxy
{
    private readonly DeviceInterface _device;
    private readonly DevicePort? _port;

    internal Port(DeviceInterface device, DevicePort? port)
    {
        _device = device;
        _port = port;
    }

    [ScriptApi]
    public PortInfo GetInfo()
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("GetInfo");
            return _port!.Info;
        }
    }

    [ScriptApi]
    public PortStatus GetStatus()
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("GetStatus");
            return _port!.Status;
        }
    }

    /// <summary>A watcher that keeps up to <paramref name="buffer"/> status changes (at least 1, at most MAX_STATUS_BUFFER).</summary>
    [ScriptApi]
    public StatusWatcher GetStatusWatcher(uint buffer)
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("GetStatusWatcher");
            var w = new StatusWatcher(_device, (int)Math.Clamp(buffer, 1, NetConstants.MAX_STATUS_BUFFER), _port!.Status);
            _port.StatusWatchers.RemoveAll(x => x.IsClosed);
            _port.StatusWatchers.Add(w);
            return w;
        }
    }

    /// <summary>The port's MAC addressing; closed with ZX_ERR_NOT_SUPPORTED when the port has no MAC.</summary>
    [ScriptApi]
    public MacAddressing GetMac()
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("GetMac");
            var client = new MacAddressing(_device, _port!);
            if (_port!.Mac is null) client.CloseChannel(ZxStatus.ZX_ERR_NOT_SUPPORTED);
            else _port.Mac.Clients.Add(client);
            return client;
        }
    }
}

/// <summary>Port status changes, oldest first, at most <c>buffer</c> kept (the oldest dropped); equal statuses in a row are ignored.</summary>
public sealed class StatusWatcher : NetProxy
{
    private readonly DeviceInterface _device;
    private readonly int _capacity;
    private readonly Queue<PortStatus> _queue = new();
    private PortStatus _lastPushed;
    private PortStatus _lastReturned;
    private TaskCompletionSource<PortStatus>? _pending;

    internal StatusWatcher(DeviceInterface device, int capacity, PortStatus current)
    {
        _device = device;
        _capacity = capacity;
        _lastPushed = _lastReturned = current;
        _queue.Enqueue(current);
    }

    /// <summary>The next status; hangs until there is one.</summary>
    [ScriptApi]
    public Task<PortStatus> WatchStatusAsync()
    {
        lock (_device.Sync)
        {
            if (IsClosed) return Task.FromException<PortStatus>(new ZxException(EpitaphStatus, "StatusWatcher.WatchStatus: the watcher is closed"));
            _pending?.TrySetResult(_lastReturned); // a second hanging call answers the first with what it saw last
            _pending = null;
            if (_queue.Count > 0) return Task.FromResult(_lastReturned = _queue.Dequeue());
            _pending = new TaskCompletionSource<PortStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _pending.Task;
        }
    }

    internal void Push(PortStatus status)
    {
        if (IsClosed || status == _lastPushed) return;
        _lastPushed = status;
        if (_pending is { } p)
        {
            _pending = null;
            _lastReturned = status;
            p.TrySetResult(status);
            return;
        }
        _queue.Enqueue(status);
        while (_queue.Count > _capacity) _queue.Dequeue();
    }

    private protected override void OnChannelClosed()
    {
        _pending?.TrySetException(new ZxException(EpitaphStatus, "StatusWatcher.WatchStatus: the watcher closed"));
        _pending = null;
    }
}

/// <summary>Port events: <c>existing</c> for each port at creation, then <c>idle</c>, then <c>added</c>/<c>removed</c> as they happen.</summary>
public sealed class PortWatcher : NetProxy
{
    private readonly DeviceInterface _device;
    private readonly Queue<DevicePortEvent> _queue = new();
    private TaskCompletionSource<DevicePortEvent>? _pending;

    internal PortWatcher(DeviceInterface device, IEnumerable<byte> existing)
    {
        _device = device;
        foreach (byte id in existing) _queue.Enqueue(new DevicePortEvent("existing", id));
        _queue.Enqueue(new DevicePortEvent("idle", null));
    }

    [ScriptApi]
    public Task<DevicePortEvent> WatchAsync()
    {
        lock (_device.Sync)
        {
            if (IsClosed) return Task.FromException<DevicePortEvent>(new ZxException(EpitaphStatus, "PortWatcher.Watch: the watcher is closed"));
            if (_pending is not null)
            {
                CloseChannel(ZxStatus.ZX_ERR_BAD_STATE); // two hanging calls at once is a protocol error
                return Task.FromException<DevicePortEvent>(new ZxException(ZxStatus.ZX_ERR_BAD_STATE, "PortWatcher.Watch: a Watch is already pending"));
            }
            if (_queue.Count > 0) return Task.FromResult(_queue.Dequeue());
            _pending = new TaskCompletionSource<DevicePortEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _pending.Task;
        }
    }

    internal void Queue(DevicePortEvent e)
    {
        if (IsClosed) return;
        if (_pending is { } p)
        {
            _pending = null;
            p.TrySetResult(e);
            return;
        }
        _queue.Enqueue(e);
        if (_queue.Count > NetConstants.MaxPortEvents) CloseChannel(ZxStatus.ZX_ERR_CANCELED);
    }

    private protected override void OnChannelClosed()
    {
        _pending?.TrySetException(new ZxException(EpitaphStatus, "PortWatcher.Watch: the watcher closed"));
        _pending = null;
    }
}
