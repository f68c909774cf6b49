namespace NicScript.Driver.Pci;

/// <summary>The SR-IOV extended capability of a physical function (PCIe base spec §9.3.3): VFs appear on the bus when enabled.</summary>
/// <remarks>
/// Layout at extended offset 0x100: header (id 0x0010, version 1), capabilities, control (bit 0 VF Enable, bit 3 VF
/// Memory Space Enable), status, InitialVFs, TotalVFs, NumVFs (writable while VFs are disabled), First VF Offset, VF
/// Stride, VF Device ID. Setting VF Enable hot-adds NumVFs functions at routing IDs PF + offset + i × stride;
/// clearing it hot-removes them, so handles to a VF fail cleanly afterwards. A NumVFs above TotalVFs or zero enables
/// nothing (the PF reads back VF Enable clear), as a device that refuses the configuration.
/// </remarks>
public sealed class SriovCapability
{
    public const int Offset = 0x100;
    public const ushort ExtendedCapabilityId = 0x0010;
    public const int Control = Offset + 0x08, InitialVfs = Offset + 0x0C, TotalVfsOffset = Offset + 0x0E, NumVfs = Offset + 0x10,
        FirstVfOffset = Offset + 0x14, VfStride = Offset + 0x16, VfDeviceId = Offset + 0x1A;

    private readonly PciFunction _pf;
    private readonly PciBus _bus;
    private readonly Func<PciAddress, int, PciFunction> _makeVf;
    private readonly List<PciFunction> _vfs = new();

    public SriovCapability(PciFunction pf, PciBus bus, ushort totalVfs, ushort firstOffset, ushort stride, ushort vfDeviceId,
        Func<PciAddress, int, PciFunction> makeVf)
    {
        if (totalVfs == 0 || stride == 0) throw new ArgumentException("a PF with SR-IOV has at least one VF and a stride");
        _pf = pf;
        _bus = bus;
        _makeVf = makeVf;
        ConfigSpace c = pf.Config;
        c.Set(Offset, 4, ExtendedCapabilityId | 1u << 16); // version 1, last in the list
        c.Set(InitialVfs, 2, totalVfs);
        c.Set(TotalVfsOffset, 2, totalVfs);
        c.Set(FirstVfOffset, 2, firstOffset);
        c.Set(VfStride, 2, stride);
        c.Set(VfDeviceId, 2, vfDeviceId);
        c.SetWritable(Control, 2, 0x0009);
        c.SetWritable(NumVfs, 2, 0xFFFF);
        c.Written += OnWritten;
    }

    public ushort TotalVfs => _pf.Config.Read16(TotalVfsOffset);

    /// <summary>The VFs on the bus now.</summary>
    public IReadOnlyList<PciFunction> Vfs => _vfs;

    /// <summary>The address of VF <paramref name="index"/>: routing ID PF + First VF Offset + index × VF Stride.</summary>
    public PciAddress VfAddress(int index)
    {
        PciAddress a = _pf.Address;
        int rid = (a.Bus << 8 | a.Device << 3 | a.Function) + _pf.Config.Read16(FirstVfOffset) + index * _pf.Config.Read16(VfStride);
        return new PciAddress(a.Segment, (byte)(rid >> 8 & 0xFF), (byte)(rid >> 3 & 0x1F), (byte)(rid & 7));
    }

    private void OnWritten(int offset, int size)
    {
        if (offset > Control + 1 || offset + size <= Control) return;
        bool enable = (_pf.Config.Read16(Control) & 1) != 0;
        if (enable && _vfs.Count == 0) Enable();
        else if (!enable && _vfs.Count > 0) Disable();
    }

    private void Enable()
    {
        int n = _pf.Config.Read16(NumVfs);
        if (n == 0 || n > TotalVfs)
        {
            _pf.Config.Set(Control, 2, _pf.Config.Read16(Control) & ~1u); // refused
            return;
        }
        _pf.Config.SetWritable(NumVfs, 2, 0); // fixed while enabled
        for (int i = 0; i < n; i++)
        {
            PciFunction vf = _makeVf(VfAddress(i), i);
            if (_bus.TryAdd(vf)) _vfs.Add(vf);
        }
    }

    private void Disable()
    {
        foreach (PciFunction vf in _vfs) _bus.TryRemove(vf.Address, out _);
        _vfs.Clear();
        _pf.Config.SetWritable(NumVfs, 2, 0xFFFF);
    }
}
