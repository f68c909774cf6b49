using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Devices.Mana.Gdma;

/// <summary>The GDMA transport on its own, without a client device: BAR0's registers and its MSI-X window.</summary>
public sealed class GdmaDeviceTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly PciFunction _function;
    private readonly GdmaDevice _gdma;

    public GdmaDeviceTests()
    {
        var address = new PciAddress(0, 0, 0x1e, 1);
        var dma = new IommuDomain(_memory, address.ToString());
        _function = new PciFunction(address, new ConfigSpace(ManaRegisters.VendorId, ManaRegisters.VfDeviceId, 0x020000), "gdma", dma);
        _gdma = new GdmaDevice(_function, dma, NoDeviceEvents.Instance, vectors: 4);
        _function.Config.Write(ConfigSpace.Command, 2, 0x0006); // memory space, bus master
    }

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void Bar0_TellsWhereTheDoorbellsAndTheShmAre()
    {
        Assert.Equal((ulong)ManaRegisters.DoorbellPagesOffset, _function.ReadBar(ManaRegisters.Bar, ManaRegisters.DoorbellPageOffsetRegister, 8));
        Assert.Equal((ulong)ManaRegisters.DoorbellPageSize, _function.ReadBar(ManaRegisters.Bar, ManaRegisters.DoorbellPageSizeRegister, 4));
        Assert.Equal((ulong)ManaRegisters.ShmOffset, _function.ReadBar(ManaRegisters.Bar, ManaRegisters.ShmOffsetRegister, 8));
        Assert.False(_gdma.HwcUp);
        Assert.Empty(_gdma.Queues);
    }

    [Fact]
    public void Bar0_MsixTable_IsReachedThroughTheWindow_AndOnlyInside()
    {
        int vector1 = ManaRegisters.MsixTableOffset + MsixTable.EntrySize;
        _function.WriteBar(ManaRegisters.Bar, vector1, 8, 0xFEE0_1000);
        _function.WriteBar(ManaRegisters.Bar, vector1 + 12, 4, 0); // unmask
        Assert.Equal(0xFEE0_1000UL, _function.ReadBar(ManaRegisters.Bar, vector1, 8));
        Assert.False(_gdma.Msix.IsMasked(1));
        int end = ManaRegisters.MsixTableOffset + _gdma.Msix.TableBytes;
        Assert.Equal(ulong.MaxValue, _function.ReadBar(ManaRegisters.Bar, end - 4, 8)); // straddles the table's end
        _function.WriteBar(ManaRegisters.Bar, end - 4, 8, 0);
        Assert.True(_gdma.Msix.IsMasked(3));
    }

    [Fact]
    public void Bar0_Pba_ReadsThePendingBits()
    {
        _gdma.Msix.Vector(2).Signal(); // masked at reset: it pends
        Assert.Equal(1UL << 2, _function.ReadBar(ManaRegisters.Bar, ManaRegisters.MsixPbaOffset, 8));
        _function.WriteBar(ManaRegisters.Bar, ManaRegisters.MsixPbaOffset, 8, 0); // read-only
        Assert.True(_gdma.Msix.IsPending(2));
    }
}
