using NicScript.Driver.Interrupts;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Interrupts;

public sealed class InterruptTests
{
    private sealed class Recorder : IInterruptSink
    {
        public readonly List<string> Got = new();
        public void Deliver(Interrupt interrupt, long raisedTimestamp) => Got.Add(interrupt.Name);
    }

    [Fact]
    public void IrqLine_LevelTriggered_FiresOnEdgeAndAgainWhileUnacked()
    {
        var line = new IrqLine(11);
        var sink = new Recorder();
        line.Connect(sink);
        line.Assert();
        line.Assert(); // still asserted: no new edge
        Assert.Single(sink.Got);
        line.EndOfInterrupt(); // the handler did not ack the device: it fires again
        Assert.Equal(2, sink.Got.Count);
        line.Deassert();
        line.EndOfInterrupt();
        Assert.Equal(2, sink.Got.Count);
    }

    [Fact]
    public void IrqLine_AssertedBeforeAHandlerConnects_FiresOnConnect()
    {
        var line = new IrqLine(11);
        line.Assert(); // nobody listening yet
        var sink = new Recorder();
        line.Connect(sink);
        Assert.Single(sink.Got);
    }

    [Fact]
    public void IrqLine_WithoutHandler_CountsUndelivered()
    {
        var line = new IrqLine(5);
        line.Assert();
        Assert.Equal(1, line.Undelivered);
        Assert.Equal(0, line.Raised);
    }

    private static (PciFunction, MsixTable, Recorder) Msix()
    {
        var f = new PciFunction(new PciAddress(0, 0, 4, 0), new ConfigSpace(0x1414, 0x00ba, 0x020000), "test");
        var table = new MsixTable(4);
        table.Attach(f, bar: 0, tableOffset: 0x2000, pbaOffset: 0x3000);
        var sink = new Recorder();
        for (int i = 0; i < 4; i++) table.Vector(i).Connect(sink);
        int cap = f.FindCapabilities(MsixTable.CapabilityId).Single();
        f.Config.Write(cap + 2, 2, 0x8000); // enable
        return (f, table, sink);
    }

    [Fact]
    public void Msix_CapabilityDescribesTableAndPba()
    {
        var (f, _, _) = Msix();
        int cap = f.FindCapabilities(MsixTable.CapabilityId).Single();
        Assert.Equal(3, f.Config.Read16(cap + 2) & 0x7FF); // table size - 1
        Assert.Equal(0x2000u, f.Config.Read32(cap + 4));
        Assert.Equal(0x3000u, f.Config.Read32(cap + 8));
    }

    [Fact]
    public void Msix_MaskedVector_SetsPendingBit_UnmaskDelivers()
    {
        var (_, table, sink) = Msix();
        table.Vector(2).Signal(); // vectors start masked
        Assert.Empty(sink.Got);
        Assert.True(table.Vector(2).Pending);
        Assert.Equal(1UL << 2, table.ReadPba(0, 8));
        table.WriteTable(2 * MsixTable.EntrySize + 12, 4, 0); // unmask
        Assert.Equal(["MSI-X 2"], sink.Got);
        Assert.False(table.Vector(2).Pending);
    }

    [Fact]
    public void Msix_UnmaskedVector_DeliversAtOnce()
    {
        var (_, table, sink) = Msix();
        table.WriteTable(1 * MsixTable.EntrySize + 12, 4, 0);
        table.Vector(1).Signal();
        Assert.Equal(["MSI-X 1"], sink.Got);
    }

    [Fact]
    public void Msix_FunctionMask_HoldsEveryVectorUntilCleared()
    {
        var (f, table, sink) = Msix();
        int cap = f.FindCapabilities(MsixTable.CapabilityId).Single();
        table.WriteTable(0 * MsixTable.EntrySize + 12, 4, 0);
        f.Config.Write(cap + 2, 2, 0xC000); // enable + function mask
        table.Vector(0).Signal();
        Assert.Empty(sink.Got);
        f.Config.Write(cap + 2, 2, 0x8000);
        Assert.Equal(["MSI-X 0"], sink.Got);
    }

    [Fact]
    public void Msix_Disabled_HoldsPending()
    {
        var (f, table, sink) = Msix();
        int cap = f.FindCapabilities(MsixTable.CapabilityId).Single();
        f.Config.Write(cap + 2, 2, 0x0000);
        table.WriteTable(3 * MsixTable.EntrySize + 12, 4, 0);
        table.Vector(3).Signal();
        Assert.Empty(sink.Got);
        Assert.True(table.Vector(3).Pending);
    }
}
