using System.Buffers.Binary;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>A virtio-net device (virtio 1.x, PCI 1af4:1000 or 1041) on a wire, with a legacy INTx line and MSI-X.</summary>
/// <remarks>
/// Design: the transport (registers, status machine, interrupts) is <see cref="VirtioPciDevice"/>'s; this adds the net
/// configuration (MAC, link status, MTU) and the data path. A notify runs the TX queue inline on the notifying thread
/// (as a doorbell starts hardware); frames from the wire fill posted RX buffers under the RX lock. A bad chain sets
/// DEVICE_NEEDS_RESET; nothing throws into the host. Lock order: TX, then RX (loopback delivers into RX while TX runs).
/// </remarks>
public sealed partial class VirtioNetDevice : VirtioPciDevice, IFrameReceiver
{
    public const ulong OfferedFeatures = 1UL << VirtioPci.FeatureMac | 1UL << VirtioPci.FeatureMtu | 1UL << VirtioPci.FeatureMrgRxbuf |
        1UL << VirtioPci.FeatureStatus | 1UL << VirtioPci.FeatureIndirectDesc | 1UL << VirtioPci.FeatureEventIdx | 1UL << VirtioPci.FeatureVersion1;

    private readonly object _txLock = new(), _rxLock = new();
    private readonly DescriptorChain _txChain = new(64), _rxChain = new(64);
    private readonly byte[] _gather = new byte[65536 + VirtioPci.NetHdrSize];
    private SplitVirtqueue? _rxq, _txq;
    private WirePort? _port;
    private bool _inTxBurst, _rxDirty;
    private volatile int _txThread;

    public VirtioNetDevice(PciAddress address, DmaMemory memory, IrqLine intx, byte[] mac, IDeviceEvents? events = null, ushort mtu = 1500,
        ushort deviceId = VirtioPci.TransitionalNetDeviceId)
        : this(address, memory, intx, mac, events, mtu, deviceId, new VirtioNetStats())
    {
    }

    private VirtioNetDevice(PciAddress address, DmaMemory memory, IrqLine intx, byte[] mac, IDeviceEvents? events, ushort mtu, ushort deviceId,
        VirtioNetStats stats)
        : base("virtio-net", address, memory, intx, events, deviceId, 0x020000, VirtioPci.SubsystemNet, "Red Hat, Inc. Virtio network device",
            VirtioPci.QueueCount, VirtioPci.MaxQueueSize, 3 /* config, rx, tx */, VirtioPci.NetConfigLength, OfferedFeatures, stats)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        Stats = stats;
        Mac = mac;
        Mtu = mtu;
    }

    public byte[] Mac { get; }

    public ushort Mtu { get; private set; }

    /// <summary>
    /// The device's configuration changes under the driver (a DPU's SetPortCfg): MTU and MAC are written to the config space
    /// at once, the generation moves and, once a driver is up, the config-change interrupt fires. Nothing changes, nothing fires.
    /// </summary>
    public bool Reconfigure(ushort mtu, ReadOnlySpan<byte> mac)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        lock (RegLock)
        {
            if (mtu == Mtu && mac.SequenceEqual(Mac)) return false;
            Mtu = mtu;
            mac.CopyTo(Mac);
            ConfigChanged();
            return true;
        }
    }

    public VirtioNetStats Stats { get; }

    /// <summary>Plugs the device into a wire.</summary>
    public void Connect(Link link) => _port = link.Attach(this);

    public WirePort? Port => _port;

    private bool LinkUp => _port?.Carrier ?? false;

    protected override void ReadDeviceConfig(Span<byte> b)
    {
        Mac.CopyTo(b[VirtioPci.NetMac..]);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetStatus..], LinkUp ? VirtioPci.NetStatusLinkUp : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetMaxPairs..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetMtu..], Mtu);
    }

    protected override void InstallQueues(SplitVirtqueue?[]? queues)
    {
        lock (_txLock)
        lock (_rxLock)
        {
            _rxq = queues?[VirtioPci.RxQueue];
            _txq = queues?[VirtioPci.TxQueue];
            if (queues is null) _rxDirty = false;
        }
    }

    /// <summary>Link state changed (carrier): update the status field and tell the driver.</summary>
    public void OnLinkChanged()
    {
        lock (RegLock) ConfigChanged();
    }
}
