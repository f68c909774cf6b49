using NicScript.Driver.Devices.Virtio;
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
/// configuration (MAC, link status, max_virtqueue_pairs, MTU), the control queue (VQ_PAIRS_SET) and the data path over
/// one or more queue pairs. A notify runs the TX queue inline on the notifying thread
/// (as a doorbell starts hardware); frames from the wire fill posted RX buffers under the RX lock. A bad chain sets
/// DEVICE_NEEDS_RESET; nothing throws into the host. Lock order: TX, then RX (loopback delivers into RX while TX runs).
/// </remarks>
public sealed partial class VirtioNetDevice : VirtioPciDevice, INicModel, IFrameReceiver
{
    public const ulong OfferedFeatures = 1UL << VirtioPci.FeatureMac | 1UL << VirtioPci.FeatureMtu | 1UL << VirtioPci.FeatureMrgRxbuf |
        1UL << VirtioPci.FeatureStatus | 1UL << VirtioPci.FeatureIndirectDesc | 1UL << VirtioPci.FeatureEventIdx | 1UL << VirtioPci.FeatureVersion1;

    private readonly object _txLock = new(), _rxLock = new();
    private readonly DescriptorChain _txChain = new(64), _rxChain = new(64);
    private readonly byte[] _gather = new byte[65536 + VirtioPci.NetHdrSize];
    private readonly FrameBatch _txBatch = new();
    private readonly DescriptorChain _ctrlChain = new(8);
    private readonly SplitVirtqueue?[] _rx, _tx;
    private SplitVirtqueue? _ctrl;
    private WirePort? _port;
    private bool _inTxBurst;
    private ulong _rxDirty; // receive queues with used entries not yet published, one bit each
    private int _maxPairs, _activePairs;
    private volatile int _txThread;

    public VirtioNetDevice(PciAddress address, IommuDomain dma, IrqLine intx, byte[] mac, IDeviceEvents? events = null, ushort mtu = 1500,
        ushort deviceId = VirtioPci.TransitionalNetDeviceId)
        : this(address, dma, intx, mac, events, mtu, deviceId, 1, 1, null)
    {
    }

    /// <summary>A multiqueue device: up to <paramref name="pairCapacity"/> queue pairs, <paramref name="maxPairs"/> of them
    /// offered (max_virtqueue_pairs), with the control queue, offering <paramref name="features"/> (of those it implements).</summary>
    public VirtioNetDevice(PciAddress address, IommuDomain dma, IrqLine intx, byte[] mac, IDeviceEvents? events, ushort mtu, ushort deviceId,
        int maxPairs, int pairCapacity, ulong? features)
        : this(address, dma, intx, mac, events, mtu, deviceId, maxPairs, pairCapacity, features, new VirtioNetStats())
    {
    }

    private VirtioNetDevice(PciAddress address, IommuDomain dma, IrqLine intx, byte[] mac, IDeviceEvents? events, ushort mtu, ushort deviceId,
        int maxPairs, int pairCapacity, ulong? features, VirtioNetStats stats)
        : base("virtio-net", address, dma, intx, events, deviceId, 0x020000, VirtioPci.SubsystemNet, "Red Hat, Inc. Virtio network device",
            QueuesFor(pairCapacity, Offer(features)), VirtioPci.MaxQueueSize, 2 * pairCapacity + 2 /* config, then rx and tx of each pair, ctrl */,
            VirtioPci.NetConfigLength, Offer(features), stats)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        if (maxPairs < 1 || maxPairs > pairCapacity) throw new ArgumentOutOfRangeException(nameof(maxPairs), $"1..{pairCapacity}");
        Stats = stats;
        Mac = mac;
        Mtu = mtu;
        _maxPairs = maxPairs;
        _rx = new SplitVirtqueue?[pairCapacity];
        _tx = new SplitVirtqueue?[pairCapacity];
    }

    /// <summary>What a device built with this feature list offers: the implemented ones of it (the default set without one).</summary>
    private static ulong Offer(ulong? features) => features is { } f ? f & Implemented : OfferedFeatures;

    /// <summary>Everything this model implements: the default set plus the control queue and multiqueue.</summary>
    public const ulong Implemented = OfferedFeatures | 1UL << VirtioPci.FeatureCtrlVq | 1UL << VirtioPci.FeatureMq;

    private static int QueuesFor(int pairs, ulong offered) => 2 * pairs + ((offered & 1UL << VirtioPci.FeatureCtrlVq) != 0 ? 1 : 0);

    /// <summary>max_virtqueue_pairs: the pairs a driver may enable.</summary>
    public int MaxPairs
    {
        get
        {
            lock (RegLock) return _maxPairs;
        }
    }

    /// <summary>Queue pairs in use: 1 once the driver is up, what VQ_PAIRS_SET chose with MQ, 0 before DRIVER_OK and after a reset.</summary>
    public int ActivePairs => (Status & VirtioPci.StatusDriverOk) != 0 ? Volatile.Read(ref _activePairs) : 0;

    /// <summary>The host side changed the pair limit or the features under a driver (a DPU's SetPortCfg): the new values
    /// are offered from the next negotiation, and a live driver gets DEVICE_NEEDS_RESET (the queue layout and the
    /// negotiated set no longer hold). False when nothing changed.</summary>
    public bool Renegotiate(int maxPairs, ulong? features)
    {
        lock (RegLock)
        {
            ulong offered = features is { } f ? Offer(f) : OfferedFeatureBits;
            if (maxPairs == _maxPairs && offered == OfferedFeatureBits) return false;
            if (maxPairs < 1 || maxPairs > _rx.Length) throw new ArgumentOutOfRangeException(nameof(maxPairs), $"1..{_rx.Length}");
            if (QueuesFor(_rx.Length, offered) != QueueCount) throw new ArgumentException("the control queue cannot come or go on a live function", nameof(features));
            _maxPairs = maxPairs;
            SetOfferedFeatures(offered);
            if ((Status & VirtioPci.StatusDriverOk) != 0) NeedsResetLocked("renegotiate", $"max_virtqueue_pairs {maxPairs}, features 0x{offered:x}");
            else ConfigChanged();
            return true;
        }
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

    public override WirePort? Port => _port;

    private bool LinkUp => _port?.Carrier ?? false;

    protected override void ReadDeviceConfig(Span<byte> b)
    {
        Mac.CopyTo(b[VirtioPci.NetMac..]);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetStatus..], LinkUp ? VirtioPci.NetStatusLinkUp : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetMaxPairs..], (ushort)_maxPairs);
        BinaryPrimitives.WriteUInt16LittleEndian(b[VirtioPci.NetMtu..], Mtu);
    }

    /// <summary>The control queue's index: after the receive and transmit queue of each offered pair with MQ, else 2.</summary>
    private int CtrlIndex => Negotiated(VirtioPci.FeatureMq) ? 2 * _maxPairs : 2;

    protected override void InstallQueues(SplitVirtqueue?[]? queues)
    {
        lock (_txLock)
        lock (_rxLock)
        {
            int pairs = queues is null ? 0 : Negotiated(VirtioPci.FeatureMq) ? _maxPairs : 1;
            for (int i = 0; i < _rx.Length; i++)
            {
                _rx[i] = i < pairs ? queues![2 * i] : null;
                _tx[i] = i < pairs ? queues![2 * i + 1] : null;
            }
            _ctrl = queues is not null && Negotiated(VirtioPci.FeatureCtrlVq) && CtrlIndex < queues.Length ? queues[CtrlIndex] : null;
            if (queues is not null) Volatile.Write(ref _activePairs, 1); // one pair until VQ_PAIRS_SET (§5.1.6.5.5)
            else _rxDirty = 0; // stopped (DEVICE_NEEDS_RESET keeps the pairs the driver chose until it resets)
        }
    }

    protected override void OnReset() => Volatile.Write(ref _activePairs, 0);

    /// <summary>Link state changed (carrier): update the status field and tell the driver.</summary>
    public void OnLinkChanged()
    {
        lock (RegLock) ConfigChanged();
    }
}
