using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Numerics;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>What every virtio PCI device counts at the transport: doorbells, interrupts raised, resets, DMA faults.</summary>
public class VirtioTransportStats
{
    internal long Notifies, Interrupts, Resets;
    internal IommuDomain? Domain;

    public long NotifiesCount => Volatile.Read(ref Notifies);
    public long InterruptsCount => Volatile.Read(ref Interrupts);
    public long ResetsCount => Volatile.Read(ref Resets);
    /// <summary>Accesses outside the function's IOMMU domain (each failed its request or reset the device).</summary>
    public long DmaFaultsCount => Domain?.Faults ?? 0;
}

/// <summary>The virtio 1.x PCI transport (§4.1) that every device model here shares: the common configuration, the status
/// machine, ISR and INTx, the MSI-X table, the notify area and the per-queue registers. A device type adds its feature
/// bits, its device-specific configuration and what a doorbell does.</summary>
/// <remarks>
/// Design: registers live in BAR 4 (common, ISR, device config, notify) and the MSI-X table in BAR 1, found through the
/// vendor capabilities as a real driver finds them. FEATURES_OK sticks only for a subset of the offered features that
/// includes VERSION_1; queues come alive at DRIVER_OK, when their rings are checked against the function's IOMMU domain
/// (<see cref="Dma"/>: what the attached driver's owner owns, borrows or was given). A driver that
/// breaks the protocol (notify before DRIVER_OK, a ring outside DMA memory, …) gets DEVICE_NEEDS_RESET with a config
/// interrupt and a <see cref="DeviceFault"/>; nothing throws into the host. Register access is serialized by
/// <see cref="RegLock"/>; a device installs and drops its live queues in <see cref="InstallQueues"/> under its own locks.
/// </remarks>
public abstract class VirtioPciDevice : IDeviceModel
{
    private readonly QueueConfig[] _queues;
    private ulong _offered;
    private readonly int _deviceConfigLength;
    private readonly MsixWindow _msixWindow;
    private readonly ushort _maxQueueSize;
    private readonly string _kind;
    private readonly VirtioTransportStats _stats;
    private ulong _driverFeatures;
    private uint _deviceFeatureSelect, _driverFeatureSelect;
    private ushort _queueSelect, _msixConfig = VirtioPci.NoVector;
    private byte _status, _configGeneration;
    private int _isr;

    /// <param name="dma">The function's IOMMU domain: every DMA the device does goes through it.</param>
    protected VirtioPciDevice(string kind, PciAddress address, IommuDomain dma, IrqLine intx, IDeviceEvents? events, ushort deviceId,
        uint classCode, ushort subsystemId, string name, int queueCount, ushort maxQueueSize, int msixVectors, int deviceConfigLength,
        ulong offeredFeatures, VirtioTransportStats stats)
    {
        _kind = kind;
        Dma = dma;
        stats.Domain = Dma;
        Events = events ?? NoDeviceEvents.Instance;
        Intx = intx;
        _queues = new QueueConfig[queueCount];
        _maxQueueSize = maxQueueSize;
        for (int q = 0; q < queueCount; q++) _queues[q] = new QueueConfig(maxQueueSize);
        _offered = offeredFeatures;
        _deviceConfigLength = deviceConfigLength;
        _stats = stats;
        var config = new ConfigSpace(VirtioPci.VendorId, deviceId, classCode);
        config.Set(ConfigSpace.SubsystemVendorId, 2, VirtioPci.VendorId);
        config.Set(ConfigSpace.SubsystemId, 2, subsystemId);
        config.Set(ConfigSpace.InterruptLine, 1, (uint)intx.Number);
        config.Set(ConfigSpace.InterruptPin, 1, 1); // INTA#
        Function = new PciFunction(address, config, name, Dma);
        // MSI-X table at 0, pending bits after it on their own 2 KiB boundary; the BAR a power of two (PCI requires it).
        int pbaOffset = Math.Max(VirtioPci.MsixPbaOffset, (int)BitOperations.RoundUpToPowerOf2((uint)(msixVectors * MsixTable.EntrySize)));
        uint msixBarSize = Math.Max(VirtioPci.MsixBarSize, BitOperations.RoundUpToPowerOf2((uint)(pbaOffset + (msixVectors + 63) / 64 * 8)));
        Function.AddBar(new PciBar(VirtioPci.MsixBar, PciBarKind.Memory32, msixBarSize, false, new MsixRegisters(this)));
        Function.AddBar(new PciBar(VirtioPci.ModernBar, PciBarKind.Memory64, VirtioPci.ModernBarSize, true, new ModernRegisters(this)));
        Msix = new MsixTable(msixVectors);
        Msix.Attach(Function, VirtioPci.MsixBar, VirtioPci.MsixTableOffset, pbaOffset);
        _msixWindow = new MsixWindow(Msix, VirtioPci.MsixTableOffset, pbaOffset);
        AddVirtioCap(VirtioPci.CfgCommon, VirtioPci.CommonOffset, VirtioPci.CommonLength);
        AddVirtioCap(VirtioPci.CfgNotify, VirtioPci.NotifyOffset, queueCount * VirtioPci.NotifyMultiplier, VirtioPci.NotifyMultiplier);
        AddVirtioCap(VirtioPci.CfgIsr, VirtioPci.IsrOffset, 1);
        AddVirtioCap(VirtioPci.CfgDevice, VirtioPci.DeviceOffset, deviceConfigLength);
    }

    /// <summary>The function's IOMMU domain: every DMA the device does goes through it.</summary>
    public IommuDomain Dma { get; }

    IDmaSpace? IDeviceModel.Dma => Dma;

    /// <summary>The device type, e.g. <c>virtio-net</c>.</summary>
    public string Kind => _kind;

    /// <summary>Where the device is plugged into a wire; null for a type without one.</summary>
    public virtual WirePort? Port => null;

    /// <summary>Function-level reset: as the driver writing 0 to the status.</summary>
    void IDeviceModel.Reset()
    {
        lock (RegLock) Reset();
    }

    /// <summary>The function left the bus: the live queues stop, so the device reaches none of its driver's rings again.</summary>
    public virtual void HotRemove()
    {
        lock (RegLock) InstallQueues(null);
    }

    protected IDeviceEvents Events { get; }

    /// <summary>Serializes register access and configuration changes.</summary>
    protected object RegLock { get; } = new();

    public PciFunction Function { get; }

    public IrqLine Intx { get; }

    public MsixTable Msix { get; }

    /// <summary>The device status register.</summary>
    public byte Status => Volatile.Read(ref _status);

    public bool NeedsReset => (Status & VirtioPci.StatusDeviceNeedsReset) != 0;

    /// <summary>Why the device last went to DEVICE_NEEDS_RESET, or null.</summary>
    public string? ResetReason { get; private set; }

    public ulong DriverFeatures => _driverFeatures;

    /// <summary>The features this device offers.</summary>
    public ulong OfferedFeatureBits => _offered;

    /// <summary>Offers other features from the next negotiation on (callers hold <see cref="RegLock"/>; a live driver
    /// must be told with DEVICE_NEEDS_RESET).</summary>
    protected void SetOfferedFeatures(ulong features) => _offered = features;

    public int QueueCount => _queues.Length;

    /// <summary>The notify region of the modern BAR: one doorbell per queue (virtio 1.x §4.1.4.4).</summary>
    public bool IsDoorbell(int bar, int offset) =>
        bar == VirtioPci.ModernBar && offset >= VirtioPci.NotifyOffset && offset < VirtioPci.NotifyOffset + _queues.Length * VirtioPci.NotifyMultiplier;

    /// <summary>Queues the driver has enabled (queue_enable written 1), read from the queue registers.</summary>
    public int EnabledQueues
    {
        get
        {
            lock (RegLock) return _queues.Count(q => q.Enabled);
        }
    }

    /// <summary>The queue size limit the device reports before a driver changes it.</summary>
    public ushort MaxQueueSize => _maxQueueSize;

    protected bool Negotiated(int feature) => (_driverFeatures & 1UL << feature) != 0;

    /// <summary>Fills the device-specific configuration (§4.1.4.6) as it is now.</summary>
    protected abstract void ReadDeviceConfig(Span<byte> config);

    /// <summary>A doorbell on a live device (DRIVER_OK, no DEVICE_NEEDS_RESET).</summary>
    protected abstract void OnNotify(int queue);

    /// <summary>The queues went live at DRIVER_OK (entries null for queues the driver did not enable), or stopped (null).</summary>
    protected abstract void InstallQueues(SplitVirtqueue?[]? queues);

    /// <summary>The driver wrote 0 to the status: the device forgets everything it negotiated.</summary>
    protected virtual void OnReset() { }

    /// <summary>The device configuration changed under the driver: the generation moves and, once a driver is up, the
    /// config-change interrupt fires. Callers hold <see cref="RegLock"/>.</summary>
    protected void ConfigChanged()
    {
        _configGeneration++;
        if ((Status & VirtioPci.StatusDriverOk) != 0) RaiseConfigInterrupt();
    }

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
            bool subset = (_driverFeatures & ~_offered) == 0;
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
        var live = new SplitVirtqueue?[_queues.Length];
        for (int q = 0; q < _queues.Length; q++)
        {
            QueueConfig c = _queues[q];
            if (!c.Enabled) continue;
            VirtqFault f = SplitVirtqueue.TryCreate(Dma, c.Size, c.Desc, c.Driver, c.Device, eventIdx, indirect, out SplitVirtqueue queue);
            if (f != VirtqFault.None)
            {
                NeedsResetLocked("queue_setup", $"queue {q}: {f} (desc 0x{c.Desc:x}, driver 0x{c.Driver:x}, device 0x{c.Device:x}, size {c.Size})");
                return false;
            }
            live[q] = queue;
        }
        InstallQueues(live);
        return true;
    }

    private void Reset()
    {
        InstallQueues(null);
        for (int q = 0; q < _queues.Length; q++) _queues[q] = new QueueConfig(_maxQueueSize);
        _driverFeatures = 0;
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        _queueSelect = 0;
        _msixConfig = VirtioPci.NoVector;
        Volatile.Write(ref _isr, 0);
        Intx.Deassert();
        ResetReason = null;
        OnReset();
        Volatile.Write(ref _status, 0);
        Interlocked.Increment(ref _stats.Resets);
    }

    /// <summary>The driver broke the protocol: stop the queues, tell it through DEVICE_NEEDS_RESET and a config interrupt.</summary>
    protected void NeedsResetLocked(string reason, string detail)
    {
        InstallQueues(null);
        ResetReason = $"{reason}: {detail}";
        Volatile.Write(ref _status, (byte)(_status | VirtioPci.StatusDeviceNeedsReset));
        Events.Fault(new DeviceFault($"{_kind} {Function.Address.Short}", reason, detail));
        RaiseConfigInterrupt();
    }

    // Interrupts -------------------------------------------------------------------------------------------------------
    protected void RaiseQueueInterrupt(int queue)
    {
        Interlocked.Increment(ref _stats.Interrupts);
        ushort vector = _queues[queue].MsixVector;
        if (Msix.Enabled)
        {
            if (vector != VirtioPci.NoVector && vector < Msix.Count) Msix.Vector(vector).Signal();
            return;
        }
        Interlocked.Or(ref _isr, 1);
        Intx.Assert();
    }

    protected void RaiseConfigInterrupt()
    {
        Interlocked.Increment(ref _stats.Interrupts);
        if (Msix.Enabled)
        {
            if (_msixConfig != VirtioPci.NoVector && _msixConfig < Msix.Count) Msix.Vector(_msixConfig).Signal();
            return;
        }
        Interlocked.Or(ref _isr, 2);
        Intx.Assert();
    }

    // Registers --------------------------------------------------------------------------------------------------------
    private void Notify(int queue)
    {
        Interlocked.Increment(ref _stats.Notifies);
        if ((Status & VirtioPci.StatusDriverOk) == 0 || NeedsReset)
        {
            if (!NeedsReset) NeedsResetLocked("notify_before_driver_ok", $"queue {queue} notified with status 0x{Status:x2}");
            return;
        }
        OnNotify(queue);
    }

    private ulong ReadModern(int offset, int size)
    {
        if (offset >= VirtioPci.CommonOffset && offset + size <= VirtioPci.CommonOffset + VirtioPci.CommonLength)
            return Slice(CommonSnapshot(), offset - VirtioPci.CommonOffset, size);
        if (offset == VirtioPci.IsrOffset && size == 1) return ReadIsr();
        if (offset >= VirtioPci.DeviceOffset && offset + size <= VirtioPci.DeviceOffset + _deviceConfigLength)
        {
            var config = new byte[_deviceConfigLength]; // register reads are the slow path
            lock (RegLock) ReadDeviceConfig(config);
            return Slice(config, offset - VirtioPci.DeviceOffset, size);
        }
        return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
    }

    private static ulong Slice(ReadOnlySpan<byte> bytes, int offset, int size)
    {
        Span<byte> v = stackalloc byte[8];
        v.Clear();
        bytes.Slice(offset, size).CopyTo(v);
        return BinaryPrimitives.ReadUInt64LittleEndian(v);
    }

    private byte[] CommonSnapshot()
    {
        var b = new byte[VirtioPci.CommonLength];
        lock (RegLock)
        {
            Span<byte> s = b;
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DeviceFeatureSelect..], _deviceFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DeviceFeature..], _deviceFeatureSelect < 2 ? (uint)(_offered >> (32 * (int)_deviceFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DriverFeatureSelect..], _driverFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DriverFeature..], _driverFeatureSelect < 2 ? (uint)(_driverFeatures >> (32 * (int)_driverFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.MsixConfig..], _msixConfig);
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.NumQueues..], (ushort)_queues.Length);
            s[VirtioPci.DeviceStatus] = _status;
            s[VirtioPci.ConfigGeneration] = _configGeneration;
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueSelect..], _queueSelect);
            if (_queueSelect < _queues.Length)
            {
                QueueConfig q = _queues[_queueSelect];
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueSize..], q.Size);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueMsixVector..], q.MsixVector);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueEnable..], q.Enabled ? (ushort)1 : (ushort)0);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueNotifyOff..], _queueSelect);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDesc..], q.Desc);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDriver..], q.Driver);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDevice..], q.Device);
            }
        }
        return b;
    }

    /// <summary>Reading the ISR acknowledges the interrupt: it clears and the INTx line drops (§4.1.4.5).</summary>
    private byte ReadIsr()
    {
        byte isr = (byte)Interlocked.Exchange(ref _isr, 0);
        Intx.Deassert();
        return isr;
    }

    private void WriteModern(int offset, int size, ulong value)
    {
        if (offset >= VirtioPci.NotifyOffset && offset < VirtioPci.NotifyOffset + _queues.Length * VirtioPci.NotifyMultiplier && size is 2 or 4)
        {
            Notify((offset - VirtioPci.NotifyOffset) / VirtioPci.NotifyMultiplier);
            return;
        }
        if (offset < VirtioPci.CommonOffset || offset + size > VirtioPci.CommonOffset + VirtioPci.CommonLength) return; // read-only or undecoded
        lock (RegLock) WriteCommon(offset - VirtioPci.CommonOffset, size, value);
    }

    private void WriteCommon(int offset, int size, ulong value)
    {
        bool live = (_status & VirtioPci.StatusDriverOk) != 0;
        QueueConfig? q = _queueSelect < _queues.Length ? _queues[_queueSelect] : null;
        switch (offset, size)
        {
            case (VirtioPci.DeviceFeatureSelect, 4): _deviceFeatureSelect = (uint)value; break;
            case (VirtioPci.DriverFeatureSelect, 4): _driverFeatureSelect = (uint)value; break;
            case (VirtioPci.DriverFeature, 4) when (_status & VirtioPci.StatusFeaturesOk) == 0 && _driverFeatureSelect < 2:
                int shift = 32 * (int)_driverFeatureSelect;
                _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((value & 0xFFFF_FFFF) << shift);
                break;
            case (VirtioPci.MsixConfig, 2): _msixConfig = (ushort)value < Msix.Count ? (ushort)value : VirtioPci.NoVector; break;
            case (VirtioPci.DeviceStatus, 1): WriteStatus((byte)value); break;
            case (VirtioPci.QueueSelect, 2): _queueSelect = (ushort)value; break;
            // A senseless size keeps the old one (the driver reads it back), as vm-virtio's set_size does.
            case (VirtioPci.QueueSize, 2) when q is not null && !live:
                if (VirtqLayout.IsValidSize((ushort)value) && (ushort)value <= _maxQueueSize) q.Size = (ushort)value;
                break;
            case (VirtioPci.QueueMsixVector, 2) when q is not null:
                q.MsixVector = (ushort)value < Msix.Count ? (ushort)value : VirtioPci.NoVector;
                break;
            case (VirtioPci.QueueEnable, 2) when q is not null && !live:
                if (value == 1) q.Enabled = true;
                break;
            case (VirtioPci.QueueDesc, 8) when q is not null && !live: q.Desc = value; break;
            case (VirtioPci.QueueDesc, 4) when q is not null && !live: q.Desc = (q.Desc & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDesc + 4, 4) when q is not null && !live: q.Desc = (q.Desc & 0xFFFF_FFFF) | value << 32; break;
            case (VirtioPci.QueueDriver, 8) when q is not null && !live: q.Driver = value; break;
            case (VirtioPci.QueueDriver, 4) when q is not null && !live: q.Driver = (q.Driver & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDriver + 4, 4) when q is not null && !live: q.Driver = (q.Driver & 0xFFFF_FFFF) | value << 32; break;
            case (VirtioPci.QueueDevice, 8) when q is not null && !live: q.Device = value; break;
            case (VirtioPci.QueueDevice, 4) when q is not null && !live: q.Device = (q.Device & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDevice + 4, 4) when q is not null && !live: q.Device = (q.Device & 0xFFFF_FFFF) | value << 32; break;
        }
    }

    private sealed class ModernRegisters(VirtioPciDevice device) : IMmio
    {
        public ulong Read(int offset, int size) => device.ReadModern(offset, size);

        public void Write(int offset, int size, ulong value) => device.WriteModern(offset, size, value);
    }

    /// <summary>The MSI-X BAR: the table and the PBA; what the window does not decode reads as all ones (a DWORD's for a
    /// smaller access, as the table itself answers) and is not written.</summary>
    private sealed class MsixRegisters(VirtioPciDevice device) : IMmio
    {
        public ulong Read(int offset, int size) =>
            device._msixWindow.TryRead(offset, size, out ulong value) ? value : size == 8 ? ulong.MaxValue : 0xFFFF_FFFF;

        public void Write(int offset, int size, ulong value) => device._msixWindow.TryWrite(offset, size, value);
    }

    private sealed class QueueConfig(ushort size)
    {
        public ushort Size = size;
        public ushort MsixVector = VirtioPci.NoVector;
        public bool Enabled;
        public ulong Desc, Driver, Device;
    }
}
