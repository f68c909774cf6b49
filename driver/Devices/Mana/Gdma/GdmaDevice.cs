using System.Buffers.Binary;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>The GDMA transport of an emulated MANA VF: BAR0 registers, SHM bootstrap, hardware channel, EQ/CQ/SQ/RQ,
/// doorbells, MSI-X and DMA regions, below one client device (MANA Ethernet, <see cref="IGdmaClient"/>).</summary>
/// <remarks>
/// Design (gdma.md §1–§6; Linux draws the same line: gdma_main.c, shm_channel.c and hw_channel.c below mana_en.c): BAR0
/// holds the VF registers (doorbell page offset and size, SHM offset), the 32-byte SHM aperture, the MSI-X table and PBA,
/// and 48 doorbell pages. Writing SHM dword 7 runs the ESTABLISH_HWC handshake: the device adopts the driver's four HWC
/// queue pages and posts the bootstrap events on the HWC EQ. Requests arrive as SQ WQEs on the HWC and are answered into
/// the next posted RQ WQE with a CQE (GdmaDevice.Hwc.cs). The transport answers the GDMA requests (versions, resources,
/// device list, registration, DMA regions, EQs, test events); a request addressed to the client's device, and the
/// doorbell of any SQ but the HWC's, go to the client: the transport knows no Ethernet request. CQEs and EQEs are the
/// producer side of owner-bit rings (<see cref="OwnerBitRing{TMemory}"/>); an armed CQ posts an EQE on its EQ, an armed
/// EQ raises its MSI-X vector. Every DMA goes through the VF's <see cref="IommuDomain"/>: a queue page that left it stops
/// that queue's entries, and each such access is a counted DMA fault. Fail closed: a doorbell for an unknown queue is
/// dropped and counted, a request of an unknown type gets status 0xFFFFFFFF; nothing throws into the host. Hot removal
/// stops every queue and drops every reference to the driver's memory. One lock (<see cref="Sync"/>) serialises the
/// transport and its client (a loopback wire re-enters the client on the transmitting thread, which the lock allows).
/// </remarks>
internal sealed partial class GdmaDevice
{
    private readonly IommuDomain _dma;
    private readonly IDeviceEvents _events;
    private readonly object _sync = new();
    private readonly uint[] _shm = new uint[8];
    private readonly MsixWindow _msixWindow;
    private IGdmaClient? _client;
    private bool _removed;

    /// <summary>Gives <paramref name="function"/> BAR0 and an MSI-X capability of <paramref name="vectors"/> vectors; every DMA goes through <paramref name="dma"/>.</summary>
    public GdmaDevice(PciFunction function, IommuDomain dma, IDeviceEvents events, int vectors)
    {
        Function = function;
        _dma = dma;
        _events = events;
        Stats.Domain = dma;
        Function.AddBar(new PciBar(ManaRegisters.Bar, PciBarKind.Memory64, ManaRegisters.BarSize, false, new Bar0(this)));
        Msix = new MsixTable(vectors);
        Msix.Attach(Function, ManaRegisters.Bar, ManaRegisters.MsixTableOffset, ManaRegisters.MsixPbaOffset);
        _msixWindow = new MsixWindow(Msix, ManaRegisters.MsixTableOffset, ManaRegisters.MsixPbaOffset);
    }

    public PciFunction Function { get; }

    public MsixTable Msix { get; }

    public GdmaStats Stats { get; } = new();

    /// <summary>The lock the transport and its client hold while they touch queues, DMA regions or their own state.</summary>
    public object Sync => _sync;

    /// <summary>True while the function is off the bus (read under <see cref="Sync"/>).</summary>
    public bool Removed => _removed;

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

    /// <summary>The client device above the transport: LIST_DEVICES names it, requests addressed to it and its SQs' doorbells go to it.</summary>
    public void Attach(IGdmaClient client) => _client = client;

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

    /// <summary>The function is back on the bus (SR-IOV re-enabled): a device fresh from reset.</summary>
    public void Revive()
    {
        lock (_sync)
        {
            ResetLocked();
            Array.Clear(_shm);
            _removed = false;
            Function.Removed = false;
        }
    }

    /// <summary>Reports a refusal of the device's (a malformed WQE, a bad doorbell, memory gone) as a fault of this function.</summary>
    public void Fault(string reason, string detail) => _events.Fault(new DeviceFault(Function.Address.ToString(), reason, detail));

    private ulong ReadBar0(int offset, int size)
    {
        if (_msixWindow.TryRead(offset, size, out ulong msix)) return msix;
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
        if (_msixWindow.TryWrite(offset, size, value)) return;
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

    private sealed class Bar0(GdmaDevice device) : IMmio
    {
        public ulong Read(int offset, int size) => device.ReadBar0(offset, size);

        public void Write(int offset, int size, ulong value) => device.WriteBar0(offset, size, value);
    }
}
