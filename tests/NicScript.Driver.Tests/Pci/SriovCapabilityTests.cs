using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Pci;

public sealed class SriovCapabilityTests
{
    private static (PciBus Bus, PciFunction Pf, SriovCapability Sriov) Pf()
    {
        var bus = new PciBus();
        var pf = new PciFunction(new PciAddress(0, 3, 0, 0), new ConfigSpace(0x1414, 0x00b9, 0x020000), "PF");
        bus.TryAdd(pf);
        var sriov = new SriovCapability(pf, bus, totalVfs: 4, firstOffset: 1, stride: 1, vfDeviceId: 0x00ba,
            (address, i) => new PciFunction(address, new ConfigSpace(0x1414, 0x00ba, 0x020000), $"VF {i}"));
        return (bus, pf, sriov);
    }

    [Fact]
    public void VfEnable_HotAddsNumVfsAtRoutingIdOffsets()
    {
        var (bus, pf, sriov) = Pf();
        var added = new List<PciAddress>();
        bus.Added += f => added.Add(f.Address);
        pf.Config.Write(SriovCapability.NumVfs, 2, 2);
        pf.Config.Write(SriovCapability.Control, 2, 1);
        Assert.Equal(["03:00.1", "03:00.2"], added.Select(a => a.Short));
        Assert.All(sriov.Vfs, vf => Assert.Equal(0x00ba, vf.DeviceId));
        Assert.Equal(0x0010u, pf.Config.Read32(SriovCapability.Offset) & 0xFFFF);
    }

    [Fact]
    public void VfDisable_HotRemovesThemAndTheirHandlesSeeIt()
    {
        var (bus, pf, sriov) = Pf();
        pf.Config.Write(SriovCapability.NumVfs, 2, 3);
        pf.Config.Write(SriovCapability.Control, 2, 1);
        PciFunction vf = sriov.Vfs[0];
        pf.Config.Write(SriovCapability.Control, 2, 0);
        Assert.True(vf.Removed);
        Assert.Single(bus.Functions);
    }

    [Fact]
    public void NumVfsAboveTotal_EnablesNothing()
    {
        var (bus, pf, _) = Pf();
        pf.Config.Write(SriovCapability.NumVfs, 2, 9);
        pf.Config.Write(SriovCapability.Control, 2, 1);
        Assert.Equal(0, pf.Config.Read16(SriovCapability.Control) & 1);
        Assert.Single(bus.Functions);
    }

    [Fact]
    public void NumVfs_IsFixedWhileEnabled()
    {
        var (_, pf, sriov) = Pf();
        pf.Config.Write(SriovCapability.NumVfs, 2, 1);
        pf.Config.Write(SriovCapability.Control, 2, 1);
        pf.Config.Write(SriovCapability.NumVfs, 2, 4);
        Assert.Equal(1, pf.Config.Read16(SriovCapability.NumVfs));
        Assert.Single(sriov.Vfs);
    }
}
