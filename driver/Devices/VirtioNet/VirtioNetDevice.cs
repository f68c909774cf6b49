using System.Buffers.Binary;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>A virtio-net device (virtio 1.x, PCI 1af4:1000) on a wire, with a legacy INTx line and MSI-X.</summary>
/// <remarks>
/// Design: registers live in BAR 4 (common, ISR, device config, notify) and the MSI-X table in BAR 1, found through
/// the vendor capabilities as a real driver finds them. The device status follows §2.1: FEATURES_OK only for a
/// subset of the offered features including VERSION_1; queues come alive at DRIVER_OK, when their rings are checked
/// against DMA memory. Anything a driver does against the protocol — notify before DRIVER_OK, a ring or buffer
/// outside DMA memory, a chain loop, an avail index running ahead — sets DEVICE_NEEDS_RESET with a config
/// interrupt and a <see cref="DeviceFault"/>; nothing throws into the host. A notify runs the TX queue inline on the
/// notifying thread (as a doorbell starts hardware); frames from the wire fill posted RX buffers under the RX lock.
/// Lock order: TX, then RX (loopback delivers into RX while TX runs).
/// </remarks>
public sealed partial class VirtioNetDevice : IFrameReceiver
{
    public const ulong OfferedFeatures = 1UL << VirtioPci.FeatureMac | 1UL << VirtioPci.FeatureMtu | 1UL << VirtioPci.FeatureMrgRxbuf |
        1UL << VirtioPci.FeatureStatus | 1UL << VirtioPci.FeatureIndirectDesc | 1UL << VirtioPci.FeatureEventIdx | 1UL << VirtioPci.FeatureVersion1;

    private readonly DmaMemory _memory;
    private readonly IDeviceEvents _events;
    private readonly object _txLock = new(), _rxLock = new(), _regLock = new();
    private readonly QueueConfig[] _queues = [new(), new()];
    private readonly DescriptorChain _txChain = new(64), _rxChain = new(64);
    private readonly byte[] _gather = new byte[65536 + VirtioPci.NetHdrSize];
    private SplitVirtqueue? _rxq, _txq;
    private WirePort? _port;
    private ulong _driverFeatures;
    private uint _deviceFeatureSelect, _driverFeatureSelect;
    private ushort _queueSelect, _msixConfig = VirtioPci.NoVector;
    private byte _status, _configGeneration;
    private int _isr;
    private bool _inTxBurst, _rxDirty;
    private volatile int _txThread;

    public VirtioNetDevice(PciAddress address, DmaMemory memory, IrqLine intx, byte[] mac, IDeviceEvents? events = null, ushort mtu = 1500,
        ushort deviceId = VirtioPci.TransitionalNetDeviceId)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        _memory = memory;
        _events = events ?? NoDeviceEvents.Instance;
        Mac = mac;
        Mtu = mtu;
        Intx = intx;
        var config = new ConfigSpace(VirtioPci.VendorId, deviceId, 0x020000);
        config.Set(ConfigSpace.SubsystemVendorId, 2, VirtioPci.VendorId);
        config.Set(ConfigSpace.SubsystemId, 2, VirtioPci.SubsystemNet);
        config.Set(ConfigSpace.InterruptLine, 1, (uint)intx.Number);
        config.Set(ConfigSpace.InterruptPin, 1, 1); // INTA#
        Function = new PciFunction(address, config, "Red Hat, Inc. Virtio network device");
        Function.AddBar(new PciBar(VirtioPci.MsixBar, PciBarKind.Memory32, VirtioPci.MsixBarSize, false, new MsixRegisters(this)));
        Function.AddBar(new PciBar(VirtioPci.ModernBar, PciBarKind.Memory64, VirtioPci.ModernBarSize, true, new ModernRegisters(this)));
        Msix = new MsixTable(3); // config, rx, tx
        Msix.Attach(Function, VirtioPci.MsixBar, VirtioPci.MsixTableOffset, VirtioPci.MsixPbaOffset);
        AddVirtioCap(VirtioPci.CfgCommon, VirtioPci.CommonOffset, VirtioPci.CommonLength);
        AddVirtioCap(VirtioPci.CfgNotify, VirtioPci.NotifyOffset, VirtioPci.QueueCount * VirtioPci.NotifyMultiplier, VirtioPci.NotifyMultiplier);
        AddVirtioCap(VirtioPci.CfgIsr, VirtioPci.IsrOffset, 1);
        AddVirtioCap(VirtioPci.CfgDevice, VirtioPci.DeviceOffset, VirtioPci.NetConfigLength);
    }

    public PciFunction Function { get; }

    public IrqLine Intx { get; }

    public MsixTable Msix { get; }

    public byte[] Mac { get; }

    public ushort Mtu { get; private set; }

    /// <summary>
    /// The device's configuration changes under the driver (a DPU's SetPortCfg): MTU and MAC are written to the config space
    /// at once, the generation moves and, once a driver is up, the config-change interrupt fires. Nothing changes, nothing fires.
    /// </summary>
    public bool Reconfigure(ushort mtu, ReadOnlySpan<byte> mac)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        lock (_regLock)
        {
            if (mtu == Mtu && mac.SequenceEqual(Mac)) return false;
            Mtu = mtu;
            mac.CopyTo(Mac);
            _configGeneration++;
            if ((Status & VirtioPci.StatusDriverOk) != 0) RaiseConfigInterrupt();
            return true;
        }
    }

    public VirtioNetStats Stats { get; } = new();

    /// <summary>The device status register.</summary>
    public byte Status => Volatile.Read(ref _status);

    public bool NeedsReset => (Status & VirtioPci.StatusDeviceNeedsReset) != 0;

    /// <summary>Why the device last went to DEVICE_NEEDS_RESET, or null.</summary>
    public string? ResetReason { get; private set; }

    public ulong DriverFeatures => _driverFeatures;

    /// <summary>Plugs the device into a wire.</summary>
    public void Connect(Link link) => _port = link.Attach(this);

    public WirePort? Port => _port;

    private bool LinkUp => _port?.Carrier ?? false;

    private void AddVirtioCap(byte type, int offset, int length, int? multiplier = null)
    {
        Span<byte> body = stackalloc byte[multiplier is null ? 14 : 18];
        body.Clear();
        body[0] = (byte)(body.Length + 2); // cap_len
        body[1] = type;
        body[2] = VirtioPci.ModernBar;
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[10..], (uint)length);
        if (multiplier is { } m) BinaryPrimitives.WriteUInt32LittleEndian(body[14..], (uint)m);
        Function.AddCapability(VirtioPci.CapVendor, body);
    }

    private bool Negotiated(int feature) => (_driverFeatures & 1UL << feature) != 0;

    // Status machine ---------------------------------------------------------------------------------------------------
    private void WriteStatus(byte value)
    {
        if (value == 0)
        {
            Reset();
            return;
        }
        byte old = _status;
        if ((value & VirtioPci.StatusFeaturesOk) != 0 && (old & VirtioPci.StatusFeaturesOk) == 0)
        {
            bool subset = (_driverFeatures & ~OfferedFeatures) == 0;
            bool modern = Negotiated(VirtioPci.FeatureVersion1);
            if (!subset || !modern) value &= unchecked((byte)~VirtioPci.StatusFeaturesOk); // refused: the driver reads it back and gives up
        }
        if ((value & VirtioPci.StatusDriverOk) != 0 && (old & VirtioPci.StatusDriverOk) == 0)
        {
            if ((value & VirtioPci.StatusFeaturesOk) == 0)
            {
                Volatile.Write(ref _status, (byte)(value | old));
                NeedsResetLocked("driver_ok_before_features_ok", "DRIVER_OK written without FEATURES_OK");
                return;
            }
            if (!StartQueues()) return;
        }
        Volatile.Write(ref _status, (byte)(value | (old & VirtioPci.StatusDeviceNeedsReset)));
    }

    private bool StartQueues()
    {
        bool eventIdx = Negotiated(VirtioPci.FeatureEventIdx), indirect = Negotiated(VirtioPci.FeatureIndirectDesc);
        SplitVirtqueue? rx = null, tx = null;
        for (int q = 0; q < VirtioPci.QueueCount; q++)
        {
            QueueConfig c = _queues[q];
            if (!c.Enabled) continue;
            VirtqFault f = SplitVirtqueue.TryCreate(_memory, c.Size, c.Desc, c.Driver, c.Device, eventIdx, indirect, out SplitVirtqueue queue);
            if (f != VirtqFault.None)
            {
                NeedsResetLocked("queue_setup", $"queue {q}: {f} (desc 0x{c.Desc:x}, driver 0x{c.Driver:x}, device 0x{c.Device:x}, size {c.Size})");
                return false;
            }
            if (q == VirtioPci.RxQueue) rx = queue;
            else tx = queue;
        }
        lock (_txLock)
        lock (_rxLock)
        {
            _rxq = rx;
            _txq = tx;
        }
        return true;
    }

    private void Reset()
    {
        lock (_txLock)
        lock (_rxLock)
        {
            _rxq = null;
            _txq = null;
            _rxDirty = false;
        }
        for (int q = 0; q < _queues.Length; q++) _queues[q] = new QueueConfig();
        _driverFeatures = 0;
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        _queueSelect = 0;
        _msixConfig = VirtioPci.NoVector;
        Volatile.Write(ref _isr, 0);
        Intx.Deassert();
        ResetReason = null;
        Volatile.Write(ref _status, 0);
        Interlocked.Increment(ref Stats.Resets);
    }

    /// <summary>The driver broke the protocol: stop the queues, tell it through DEVICE_NEEDS_RESET and a config interrupt.</summary>
    private void NeedsResetLocked(string reason, string detail)
    {
        lock (_txLock)
        lock (_rxLock)
        {
            _rxq = null;
            _txq = null;
        }
        ResetReason = $"{reason}: {detail}";
        Volatile.Write(ref _status, (byte)(_status | VirtioPci.StatusDeviceNeedsReset));
        _events.Fault(new DeviceFault($"virtio-net {Function.Address.Short}", reason, detail));
        RaiseConfigInterrupt();
    }


    // Interrupts -------------------------------------------------------------------------------------------------------
    private void RaiseQueueInterrupt(int queue)
    {
        Interlocked.Increment(ref Stats.Interrupts);
        ushort vector = _queues[queue].MsixVector;
        if (Msix.Enabled)
        {
            if (vector != VirtioPci.NoVector && vector < Msix.Count) Msix.Vector(vector).Signal();
            return;
        }
        Interlocked.Or(ref _isr, 1);
        Intx.Assert();
    }

    private void RaiseConfigInterrupt()
    {
        Interlocked.Increment(ref Stats.Interrupts);
        if (Msix.Enabled)
        {
            if (_msixConfig != VirtioPci.NoVector && _msixConfig < Msix.Count) Msix.Vector(_msixConfig).Signal();
            return;
        }
        Interlocked.Or(ref _isr, 2);
        Intx.Assert();
    }

    /// <summary>Link state changed (carrier): update the status field and tell the driver.</summary>
    public void OnLinkChanged()
    {
        lock (_regLock)
        {
            _configGeneration++;
            if ((Status & VirtioPci.StatusDriverOk) != 0) RaiseConfigInterrupt();
        }
    }

    private sealed class QueueConfig
    {
        public ushort Size = VirtioPci.MaxQueueSize;
        public ushort MsixVector = VirtioPci.NoVector;
        public bool Enabled;
        public ulong Desc, Driver, Device;
    }
}
