using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Mana;

/// <summary>An emulated MANA virtual function (PCI 1414:00ba): the MANA Ethernet client (vPort, TX/RX) on a GDMA transport, on a wire.</summary>
/// <remarks>
/// Design (gdma.md §1–§6; as Linux puts mana_en.c above gdma_main.c and hw_channel.c): the <see cref="GdmaDevice"/> below
/// is BAR0, SHM, the hardware channel, EQ/CQ/SQ/RQ, doorbells and MSI-X; this class is its client
/// (<see cref="IGdmaClient"/>): it answers the MANA requests on the HWC — device and vPort configuration, work-queue
/// objects, RX steering (ManaDevice.Requests.cs) — puts the frames of data SQ WQEs on the wire and fills RQ WQEs with
/// frames from the wire, completing each with a MANA CQE OOB (ManaDevice.DataPath.cs). Every DMA goes through the VF's
/// <see cref="IommuDomain"/>: an SGE outside it completes the WQE with an error CQE, and each such access is a counted
/// DMA fault (<see cref="ManaStats.DmaFaultsCount"/>). Fail closed: a malformed WQE completes with an error CQE; nothing
/// throws into the host. The client holds the transport's lock (<see cref="GdmaDevice.Sync"/>) for all it does.
/// </remarks>
public sealed partial class ManaDevice : INicModel, IFrameReceiver, IGdmaClient
{
    public const int DefaultVectors = 9;

    private readonly IommuDomain _dma;
    private readonly GdmaDevice _gdma;
    private WirePort? _port;
    private IFrameTap? _tap;
    private readonly DmaWindow _txWindow, _rxWindow; // the regions the last TX and RX buffers were found in

    /// <param name="dma">The VF's IOMMU domain: queue pages, SGEs and HWC buffers are reached through it only.</param>
    public ManaDevice(PciAddress address, IommuDomain dma, byte[] mac, IDeviceEvents? events = null, int vectors = DefaultVectors, ushort mtu = 1500)
    {
        if (mac.Length != 6) throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        events ??= NoDeviceEvents.Instance;
        _dma = dma;
        _txWindow = new DmaWindow(dma);
        _rxWindow = new DmaWindow(dma);
        Mac = mac;
        Mtu = mtu;
        var config = new ConfigSpace(ManaRegisters.VendorId, ManaRegisters.VfDeviceId, 0x020000);
        config.Set(ConfigSpace.SubsystemVendorId, 2, ManaRegisters.VendorId);
        config.Set(ConfigSpace.SubsystemId, 2, ManaRegisters.VfDeviceId);
        var function = new PciFunction(address, config, "Microsoft Corporation MANA Virtual Function", _dma);
        _gdma = new GdmaDevice(function, _dma, events, vectors);
        _gdma.Attach(this);
        Stats = new ManaStats(_gdma.Stats);
    }

    public string Kind => "mana-vf";

    public PciFunction Function => _gdma.Function;

    /// <summary>A VF has no INTx line: MSI-X only.</summary>
    public IrqLine? Intx => null;

    IDmaSpace? IDeviceModel.Dma => _dma;

    /// <summary>The VF's IOMMU domain: queue pages, SGEs and HWC buffers are reached through it only.</summary>
    public IommuDomain Dma => _dma;

    public MsixTable Msix => _gdma.Msix;

    public byte[] Mac { get; }

    public ushort Mtu { get; }

    public ManaStats Stats { get; }

    public WirePort? Port => _port;

    /// <summary>True once the HWC is established (until DESTROY_HWC or a reset).</summary>
    public bool HwcUp => _gdma.HwcUp;

    /// <summary>True once the driver registered the MANA device (REGISTER_DEVICE), until it deregisters or the VF resets.</summary>
    public bool Registered => _gdma.Registered;

    /// <summary>Every queue the device serves now, HWC included.</summary>
    public IReadOnlyList<GdmaQueue> Queues => _gdma.Queues;

    /// <summary>DMA regions created through the HWC and not yet destroyed.</summary>
    public int DmaRegionCount => _gdma.DmaRegionCount;

    public void Connect(Link link) => _port = link.Attach(this);

    /// <summary>The function left the bus (SR-IOV disable or hot-unplug): every queue stops and the device forgets the driver's memory.</summary>
    public void HotRemove() => _gdma.HotRemove();

    /// <summary>Function-level reset (as the HWC's reset-VF request): every queue stops, the SHM mailbox clears.</summary>
    public void Reset() => _gdma.Reset();

    /// <summary>The doorbell pages of BAR0 (GDMA's SQ, RQ, CQ and EQ doorbells, one page per doorbell id).</summary>
    public bool IsDoorbell(int bar, int offset) => bar == ManaRegisters.Bar && offset >= ManaRegisters.DoorbellPagesOffset && offset < ManaRegisters.BarSize;

    /// <summary>A protocol engine bound to this function (RoCEv2): it sees each arriving frame first and may take it.</summary>
    public void SetTap(IFrameTap? tap) => Volatile.Write(ref _tap, tap);

    /// <summary>Puts a frame a protocol engine built on the wire through this function's port.</summary>
    public void TransmitRaw(ReadOnlySpan<byte> frame)
    {
        lock (_gdma.Sync)
        {
            if (_gdma.Removed) return;
            SendLocked(frame); // the frame is the caller's: nothing of ours to re-check
        }
    }

    /// <summary>The function is back on the bus (SR-IOV re-enabled): a device fresh from reset.</summary>
    internal void Revive() => _gdma.Revive();

    GdmaDeviceType IGdmaClient.DeviceType => GdmaDeviceType.Mana;

    void IGdmaClient.ProcessSq(GdmaQueue sq) => TransmitLocked(sq);

    private void Fault(string reason, string detail) => _gdma.Fault(reason, detail);
}
