using System.Buffers.Binary;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Mana;

/// <summary>An emulated MANA virtual function (PCI 1414:00ba) speaking GDMA: SHM bootstrap, hardware channel, EQ/CQ/SQ/RQ, a vPort on a wire.</summary>
/// <remarks>
/// Design (gdma.md §1–§6): BAR0 holds the VF registers (doorbell page offset and size, SHM offset), the 32-byte SHM
/// aperture, the MSI-X table and PBA, and 48 doorbell pages. Writing SHM dword 7 runs the ESTABLISH_HWC handshake:
/// the device adopts the driver's four HWC queue pages and posts the bootstrap events on the HWC EQ. Requests arrive
/// as SQ WQEs on the HWC and are answered into the next posted RQ WQE with a CQE (ManaDevice.Hwc.cs). Data SQ WQEs
/// put frames on the wire; frames from the wire fill RQ WQEs (ManaDevice.DataPath.cs). CQEs and EQEs carry owner
/// bits; an armed CQ posts an EQE on its EQ, an armed EQ raises its MSI-X vector. Every DMA goes through the VF's
/// <see cref="IommuDomain"/>: an SGE outside it completes the WQE with an error CQE, a queue page that left it stops
/// that queue's entries, and each such access is a counted DMA fault (<see cref="ManaStats.DmaFaultsCount"/>).
/// Fail closed: a malformed WQE completes with an error CQE, a doorbell for an unknown queue is dropped and counted,
/// a request of an unknown type gets status 0xFFFFFFFF; nothing throws into the host. Hot removal stops every queue
/// and drops every reference to the driver's memory. One lock serialises the device (a loopback wire re-enters it
/// on the transmitting thread, which the lock allows).
/// </remarks>
public sealed partial class ManaDevice : INicModel, IFrameReceiver
{
    public const int DefaultVectors = 9;

    private readonly IommuDomain _dma;
    private readonly IDeviceEvents _events;
    private readonly object _sync = new();
    private readonly uint[] _shm = new uint[8];
    private WirePort? _port;
    private IFrameTap? _tap;
    private bool _removed;

    /// <param name="dma">The VF's IOMMU domain: queue pages, SGEs and HWC buffers are reached through it only.</param>
    public ManaDevice(PciAddress address, IommuDomain dma, byte[] mac, IDeviceEvents? events = null, int vectors = DefaultVectors, ushort mtu = 1500)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        _events = events ?? NoDeviceEvents.Instance;
        _dma = dma;
        Stats.Domain = _dma;
        Mac = mac;
        Mtu = mtu;
        var config = new ConfigSpace(ManaRegisters.VendorId, ManaRegisters.VfDeviceId, 0x020000);
        config.Set(ConfigSpace.SubsystemVendorId, 2, ManaRegisters.VendorId);
        config.Set(ConfigSpace.SubsystemId, 2, ManaRegisters.VfDeviceId);
        Function = new PciFunction(address, config, "Microsoft Corporation MANA Virtual Function", _dma);
        Function.AddBar(new PciBar(ManaRegisters.Bar, PciBarKind.Memory64, ManaRegisters.BarSize, false, new Bar0(this)));
        Msix = new MsixTable(vectors);
        Msix.Attach(Function, ManaRegisters.Bar, ManaRegisters.MsixTableOffset, ManaRegisters.MsixPbaOffset);
    }

    public string Kind => "mana-vf";

    public PciFunction Function { get; }

    /// <summary>A VF has no INTx line: MSI-X only.</summary>
    public IrqLine? Intx => null;

    IDmaSpace? IDeviceModel.Dma => _dma;

    /// <summary>The VF's IOMMU domain: queue pages, SGEs and HWC buffers are reached through it only.</summary>
    public IommuDomain Dma => _dma;

    public MsixTable Msix { get; }

    public byte[] Mac { get; }

    public ushort Mtu { get; }

    public ManaStats Stats { get; } = new();

    public WirePort? Port => _port;

    /// <summary>True once the HWC is established (until DESTROY_HWC or a reset).</summary>
    public bool HwcUp { get; private set; }

    /// <summary>Every queue the device serves now, HWC included.</summary>
    public IReadOnlyList<GdmaQueue> Queues
    {
        get
        {
            lock (_sync) return _queues.Values.ToArray();
        }
    }

    /// <summary>DMA regions created through the HWC and not yet destroyed.</summary>
    public int DmaRegionCount
    {
        get
        {
            lock (_sync) return _regions.Count;
        }
    }

    public void Connect(Link link) => _port = link.Attach(this);

    /// <summary>The function left the bus (SR-IOV disable or hot-unplug): every queue stops and the device forgets the driver's memory.</summary>
    public void HotRemove()
    {
        lock (_sync)
        {
            _removed = true;
            ResetLocked();
        }
        _events.Fault(new DeviceFault(Function.Address.ToString(), "hot-removed", "queues stopped, driver memory released"));
    }

    /// <summary>Function-level reset (as the HWC's reset-VF request): every queue stops, the SHM mailbox clears.</summary>
    public void Reset()
    {
        lock (_sync)
        {
            ResetLocked();
            Array.Clear(_shm);
        }
    }

    /// <summary>A protocol engine bound to this function (RoCEv2): it sees each arriving frame first and may take it.</summary>
    public void SetTap(IFrameTap? tap) => Volatile.Write(ref _tap, tap);

    /// <summary>Puts a frame a protocol engine built on the wire through this function's port.</summary>
    public void TransmitRaw(ReadOnlySpan<byte> frame)
    {
        lock (_sync)
            if (!_removed) _port?.Transmit(frame);
    }

    /// <summary>The function is back on the bus (SR-IOV re-enabled): a device fresh from reset.</summary>
    internal void Revive()
    {
        lock (_sync)
        {
            ResetLocked();
            Array.Clear(_shm);
            _removed = false;
            Function.Removed = false;
        }
    }

    private void Fault(string reason, string detail) => _events.Fault(new DeviceFault(Function.Address.ToString(), reason, detail));

    private ulong ReadBar0(int offset, int size)
    {
        if (offset >= ManaRegisters.MsixTableOffset && offset + size <= ManaRegisters.MsixTableOffset + Msix.TableBytes)
            return Msix.ReadTable(offset - ManaRegisters.MsixTableOffset, size);
        if (offset >= ManaRegisters.MsixPbaOffset && offset + size <= ManaRegisters.MsixPbaOffset + Msix.PbaBytes)
            return Msix.ReadPba(offset - ManaRegisters.MsixPbaOffset, size);
        Span<byte> regs = stackalloc byte[ManaRegisters.ShmOffset + ManaRegisters.ShmSize];
        regs.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(regs[ManaRegisters.DoorbellPageOffsetRegister..], ManaRegisters.DoorbellPagesOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(regs[ManaRegisters.DoorbellPageSizeRegister..], ManaRegisters.DoorbellPageSize);
        BinaryPrimitives.WriteUInt64LittleEndian(regs[ManaRegisters.ShmOffsetRegister..], ManaRegisters.ShmOffset);
        lock (_sync)
            for (int i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32LittleEndian(regs[(ManaRegisters.ShmOffset + 4 * i)..], _shm[i]);
        if (offset < 0 || offset + size > regs.Length) return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        Span<byte> v = stackalloc byte[8];
        v.Clear();
        regs.Slice(offset, size).CopyTo(v);
        return BinaryPrimitives.ReadUInt64LittleEndian(v);
    }

    private void WriteBar0(int offset, int size, ulong value)
    {
        if (offset >= ManaRegisters.MsixTableOffset && offset + size <= ManaRegisters.MsixTableOffset + Msix.TableBytes)
        {
            Msix.WriteTable(offset - ManaRegisters.MsixTableOffset, size, value);
            return;
        }
        if (offset >= ManaRegisters.ShmOffset && offset + size <= ManaRegisters.ShmOffset + ManaRegisters.ShmSize)
        {
            if (size != 4 || offset % 4 != 0) return; // the aperture takes 32-bit stores only
            int dword = (offset - ManaRegisters.ShmOffset) / 4;
            lock (_sync)
            {
                if (_removed) return;
                _shm[dword] = (uint)value;
                if (dword == 7) ShmMessageLocked();
            }
            return;
        }
        if (offset >= ManaRegisters.DoorbellPagesOffset && size == 8)
        {
            int page = (offset - ManaRegisters.DoorbellPagesOffset) / ManaRegisters.DoorbellPageSize;
            int slot = (offset - ManaRegisters.DoorbellPagesOffset) % ManaRegisters.DoorbellPageSize;
            Doorbell(page, slot, value);
        }
    }

    private sealed class Bar0(ManaDevice device) : IMmio
    {
        public ulong Read(int offset, int size) => device.ReadBar0(offset, size);

        public void Write(int offset, int size, ulong value) => device.WriteBar0(offset, size, value);
    }
}
