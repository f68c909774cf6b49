using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests;

/// <summary>The machine takes device models through the contract: placement, vector numbering, wire ports, hot-removal.</summary>
public sealed class MachineTests
{
    private static readonly PciAddress At = new(0, 0, 0x1d, 0), Other = new(0, 0, 0x1c, 0); // not the default machine's addresses

    private static VirtioNetDevice Nic(Machine m, PciAddress address, int line, byte last) =>
        new(address, m.Domain(address), m.Line(line), [0x52, 0x54, 0, 0, 0, last], m.Events);

    private static int[] VectorsOf(Machine m, IDeviceModel d) =>
        m.Interrupts.Where(kv => kv.Value is MsixVector v && d.Msix is { } t && v.Number < t.Count && t.Vector(v.Number) == v)
            .Select(kv => kv.Key).Order().ToArray();

    [Fact]
    public void Add_Nic_IsOnTheBusWithNumberedVectorsAndAConnectedPort()
    {
        using var m = new Machine("m");
        Link wire = m.AddLink(Links.Loopback("w"));
        VirtioNetDevice nic = m.Add(Nic(m, At, 7, 1), wire);
        Assert.True(m.Pci.TryGet(At, out PciFunction f));
        Assert.Same(nic.Function, f);
        Assert.Same(nic, m.DeviceOf(f));
        Assert.Equal([nic], m.Devices);
        Assert.Equal(Enumerable.Range(Machine.FirstVectorNumber, nic.Msix.Count), VectorsOf(m, nic));
        Assert.Same(wire, nic.Port!.Link);
        Assert.Contains(nic.Port, wire.Ports);
    }

    [Fact]
    public void Domain_OfAFunctionExportedToAGuest_IsTheGuestsMemoryAndOthersStayTheMachines()
    {
        using var m = new Machine("m");
        Driver.VfioUser.GuestMemory guest = m.ExportToGuest(At);
        Assert.Same(guest, m.ExportToGuest(At));
        Assert.Same(guest.Domain, m.Domain(At));
        Assert.Same(guest.Domain, Nic(m, At, 7, 1).Dma);
        Assert.True(m.Domain(Other).Over(m.Dma));
        Assert.False(guest.Domain.Over(m.Dma));
    }

    [Fact]
    public void Add_Second_NumbersItsVectorsAfterTheFirsts()
    {
        using var m = new Machine("m");
        Link wire = m.AddLink(Links.Pair("w"));
        VirtioNetDevice a = m.Add(Nic(m, At, 7, 1), wire), b = m.Add(Nic(m, Other, 8, 2), wire);
        Assert.Equal(Enumerable.Range(Machine.FirstVectorNumber + a.Msix.Count, b.Msix.Count), VectorsOf(m, b));
    }

    [Fact]
    public void Add_TakenAddress_ThrowsAndListsNothing()
    {
        using var m = new Machine("m");
        m.Add(Nic(m, At, 7, 1));
        Assert.Throws<ArgumentException>(() => m.Add(Nic(m, At, 7, 2)));
        Assert.Single(m.Devices);
    }

    [Fact]
    public void Add_WireForADeviceWithoutAPort_Throws()
    {
        using var m = new Machine("m");
        Link wire = m.AddLink(Links.Loopback("w"));
        Assert.Throws<ArgumentException>(() => m.Add(new ManaPhysicalFunction(m, At, [0, 0x15, 0x5d, 0, 0, 9], wire), wire));
        Assert.False(m.Pci.TryGet(At, out _));
    }

    [Fact]
    public void TryRemove_StopsTheDeviceThroughTheContractAndFreesItsVectors()
    {
        using var m = new Machine("m");
        Link wire = m.AddLink(Links.Loopback("w"));
        VirtioNetDevice nic = m.Add(Nic(m, At, 7, 1), wire);
        DmaOwner owner = m.Dma.CreateOwner("driver", 16 << 20);
        VirtioNetDriver.BringUp(nic.Function, m.Dma, owner, interrupts: false);
        byte[] frame = new byte[60];
        nic.Receive(frame);
        Assert.Equal((1, 0), (nic.Stats.RxPacketsCount, nic.Stats.RxDroppedCount)); // live: into a posted buffer

        Assert.True(m.TryRemove(At));

        Assert.Empty(m.Devices);
        Assert.Empty(VectorsOf(m, nic));
        Assert.DoesNotContain(m.Interrupts.Values, i => i is MsixVector);
        nic.Receive(frame);
        Assert.Equal((1, 1), (nic.Stats.RxPacketsCount, nic.Stats.RxDroppedCount)); // stopped: its queues are gone
    }

    [Fact]
    public void SriovDisable_HotRemovesTheVfThroughTheContract()
    {
        var events = new RecordingEvents();
        using Machine m = DefaultMachine.Create(events);
        ManaDevice vf = m.Devices.OfType<ManaDevice>().Single();
        Assert.NotEmpty(VectorsOf(m, vf));
        Assert.True(m.Pci.TryGet(DefaultMachine.ManaPf, out PciFunction pf));
        pf.Config.Write(SriovCapability.Control, 2, 0);
        Assert.DoesNotContain(vf, m.Devices);
        Assert.Empty(VectorsOf(m, vf));
        Assert.Equal([new DeviceFault(DefaultMachine.ManaVf.ToString(), "hot-removed", "queues stopped, driver memory released")], events.Faults);
        pf.Config.Write(SriovCapability.Control, 2, 0x0009); // re-enabled: the same device is listed again
        Assert.Contains(vf, m.Devices);
    }

    private sealed class RecordingEvents : IDeviceEvents
    {
        public List<DeviceFault> Faults { get; } = new();

        public void Fault(DeviceFault fault) => Faults.Add(fault);
    }
}
