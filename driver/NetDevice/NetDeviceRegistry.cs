using NicScript.Driver.Devices;
using NicScript.Driver.Pci;

namespace NicScript.Driver.NetDevice;

/// <summary>The machine's netdevices: one per network function, made on first use, torn down when the function is hot-removed.</summary>
/// <remarks>
/// A network function is any device model with a wire port (<see cref="INicModel"/>); which native driver carries its frames
/// is <see cref="NicUplinks"/>' to say.
/// A function's netdevice binds the function only when a session first starts the NIC, so scripts that drive the
/// function themselves (net-bridge) and scripts that use the netdevice layer can share a machine as long as they do
/// not use the same function at the same time.
/// </remarks>
public sealed class NetDeviceRegistry
{
    private readonly IDeviceHost _machine;
    private readonly object _sync = new();
    private readonly Dictionary<PciAddress, Device> _live = new();
    private readonly Dictionary<PciAddress, NicConfig> _configs = new();
    private readonly HashSet<PciAddress> _unplugged = new();

    internal NetDeviceRegistry(IDeviceHost machine)
    {
        _machine = machine;
        machine.Pci.Removed += OnRemoved;
        machine.Pci.Added += f =>
        {
            lock (_sync) _unplugged.Remove(f.Address); // a function (re-)added is a new netdevice
        };
    }

    /// <summary>Raised when a function's netdevice appears (first use) or finishes teardown.</summary>
    public event Action<Device, bool>? Changed;

    /// <summary>Sets the NIC parameters and ports of the netdevice at <paramref name="address"/> (a machine file's <c>netdevice</c> block).</summary>
    /// <exception cref="ArgumentException">A rule of reference ND-02 is broken; the message names the field and the rule.</exception>
    public void Configure(PciAddress address, NicConfig config)
    {
        if (config.Validate() is { } bad) throw new ArgumentException($"netdevice.{bad.Field}: {bad.Rule}", nameof(config));
        lock (_sync) _configs[address] = config;
    }

    /// <summary>The parameters the netdevice at <paramref name="address"/> has or will have.</summary>
    public NicConfig? ConfigOf(PciAddress address)
    {
        lock (_sync) return _configs.GetValueOrDefault(address) ?? DefaultConfig(address);
    }

    /// <summary>Live devices (first use made them).</summary>
    public IReadOnlyList<Device> Live
    {
        get { lock (_sync) return _live.Values.ToArray(); }
    }

    public bool IsBound(PciAddress address)
    {
        lock (_sync) return _live.TryGetValue(address, out Device? d) && !d.Gone;
    }

    /// <summary><c>DeviceInstance.GetDevice</c>: ZX_ERR_NOT_FOUND for no netdevice there, ZX_ERR_UNAVAILABLE while it is torn down.</summary>
    public Device Get(PciAddress address)
    {
        Device made;
        lock (_sync)
        {
            if (_live.TryGetValue(address, out Device? live))
            {
                if (live.Gone) _live.Remove(address);
                else if (live.TearingDown) throw new ZxException(ZxStatus.ZX_ERR_UNAVAILABLE, $"netdevice {address} is being torn down");
                else return live;
            }
            if (_unplugged.Contains(address) || !_machine.Pci.TryGet(address, out PciFunction function) || function.Removed)
                throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"no network function at {address} on machine {_machine.Name}");
            NicConfig config = _configs.GetValueOrDefault(address) ?? DefaultConfig(address)
                ?? throw new ZxException(ZxStatus.ZX_ERR_NOT_FOUND, $"{address} is not a network function");
            INicUplink? uplink = NicOf(function) is { } nic ? NicUplinks.For(nic, _machine.Dma) : null;
            made = new Device(address.ToString(), config, uplink);
            made.TornDown += d =>
            {
                lock (_sync)
                {
                    if (_live.TryGetValue(address, out Device? cur) && cur == d) _live.Remove(address);
                    _unplugged.Add(address); // torn down (emu.remove or hot-removal): gone until the function is added again
                }
                Changed?.Invoke(d, false);
            };
            _live[address] = made;
        }
        Changed?.Invoke(made, true);
        return made;
    }

    /// <summary>The default netdevice of a machine NIC: port 0 on the function's wire, its MAC, no offloads.</summary>
    private NicConfig? DefaultConfig(PciAddress address)
    {
        if (!_machine.Pci.TryGet(address, out PciFunction function) || NicOf(function) is not { } nic) return null;
        byte[] mac = nic.Mac;
        return new NicConfig
        {
            RxDepth = 128,
            TxDepth = 128,
            RxThreshold = 64,
            BufferAlignment = 1,
            MaxBufferLength = 2048,
            MinRxBufferLength = 1514,
            MinTxBufferLength = 14,
            RxAccel = [],
            TxAccel = [],
            Ports = [new PortConfig { Id = 0, Mac = mac, TxTypes = [new FrameTypeSupport(FrameType.ETHERNET, NetConstants.FRAME_FEATURES_RAW, 0)], Uplink = true }],
        };
    }

    /// <summary>The NIC model of <paramref name="function"/> when it has a wire port, or null.</summary>
    private INicModel? NicOf(PciFunction function)
    {
        foreach (IDeviceModel d in _machine.Devices)
            if (d.Function == function && d is INicModel { Port: not null } nic) return nic;
        return null;
    }

    /// <summary>Hot-removal: the ports go first (watchers see <c>removed</c>, sessions detach), then the device is torn down.</summary>
    private void OnRemoved(PciFunction function)
    {
        Device? d;
        lock (_sync) d = _live.GetValueOrDefault(function.Address);
        if (d is null) return;
        lock (d.Sync)
        {
            foreach (byte id in d.PortIds().ToArray()) d.RemovePort(id);
            d.Teardown();
        }
    }
}
