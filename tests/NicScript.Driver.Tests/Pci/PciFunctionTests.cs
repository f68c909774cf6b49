using NicScript.Driver.Interrupts;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Pci;

public sealed class PciFunctionTests
{
    private sealed class Scratch : IMmio
    {
        public readonly byte[] Bytes = new byte[256];
        public ulong Read(int offset, int size) => BitConverter.ToUInt32(Bytes, offset) & (size == 4 ? 0xFFFF_FFFFu : (1u << (size * 8)) - 1);
        public void Write(int offset, int size, ulong value) => BitConverter.GetBytes((uint)value).AsSpan(0, size).CopyTo(Bytes.AsSpan(offset));
    }

    private static PciFunction Function() => new(new PciAddress(0, 0, 3, 0), new ConfigSpace(0x1af4, 0x1041, 0x020000), "test");

    [Theory]
    [InlineData(PciBarKind.Memory32, 0x4000u, false, 0xFFFF_C000u)]
    [InlineData(PciBarKind.Memory64, 0x4000u, false, 0xFFFF_C004u)]
    [InlineData(PciBarKind.Memory64, 0x10_0000u, true, 0xFFF0_000Cu)]
    [InlineData(PciBarKind.Io, 0x20u, false, 0xFFFF_FFE1u)]
    public void BarSizing_WriteAllOnes_ReadsBackSizeMaskAndFlags(PciBarKind kind, uint size, bool prefetch, uint expected)
    {
        PciFunction f = Function();
        f.AddBar(new PciBar(0, kind, size, prefetch, new Scratch()));
        f.Config.Write(ConfigSpace.Bar0, 4, 0xFFFF_FFFF);
        Assert.Equal(expected, f.Config.Read32(ConfigSpace.Bar0));
        Assert.Equal(size, ~(f.Config.Read32(ConfigSpace.Bar0) & ~(kind == PciBarKind.Io ? 0x3u : 0xFu)) + 1);
    }

    [Fact]
    public void Bar64_ProgrammedAddress_SpansBothDwords()
    {
        PciFunction f = Function();
        f.AddBar(new PciBar(4, PciBarKind.Memory64, 0x4000, false, new Scratch()));
        f.Config.Write(ConfigSpace.Bar0 + 16, 4, 0xFEB0_0000);
        f.Config.Write(ConfigSpace.Bar0 + 20, 4, 0x0000_0001);
        Assert.Equal(0x1_FEB0_0000UL, f.BarAddress(4));
    }

    [Fact]
    public void BarAccess_MemorySpaceDisabled_ReadsAllOnesAndDropsWrites()
    {
        PciFunction f = Function();
        var regs = new Scratch();
        f.AddBar(new PciBar(0, PciBarKind.Memory32, 256, false, regs));
        f.WriteBar(0, 0, 4, 0x1234);
        Assert.Equal(0xFFFF_FFFFUL, f.ReadBar(0, 0, 4));
        f.Config.Write(ConfigSpace.Command, 2, 0x2);
        f.WriteBar(0, 0, 4, 0x1234);
        Assert.Equal(0x1234UL, f.ReadBar(0, 0, 4));
    }

    [Fact]
    public void BarAccess_PastTheBar_IsIgnored()
    {
        PciFunction f = Function();
        f.AddBar(new PciBar(0, PciBarKind.Memory32, 256, false, new Scratch()));
        f.Config.Write(ConfigSpace.Command, 2, 0x2);
        Assert.Equal(0xFFFF_FFFFUL, f.ReadBar(0, 254, 4));
    }

    [Fact]
    public void ReadOnlyRegisters_IgnoreDriverWrites()
    {
        PciFunction f = Function();
        f.Config.Write(ConfigSpace.VendorId, 2, 0xBEEF);
        Assert.Equal(0x1af4, f.VendorId);
    }

    [Fact]
    public void Capabilities_FormAListTheDriverCanWalk()
    {
        PciFunction f = Function();
        int a = f.AddCapability(0x09, [1, 2, 3]);
        int b = f.AddCapability(0x11, new byte[10]);
        int c = f.AddCapability(0x09, [4]);
        Assert.Equal([a, c], f.FindCapabilities(0x09));
        Assert.Equal([b], f.FindCapabilities(0x11));
        Assert.Equal(0x10, f.Config.Read16(ConfigSpace.Status) & 0x10);
    }

    [Fact]
    public void HotRemove_RaisesEventAndMarksFunction()
    {
        var bus = new PciBus();
        PciFunction f = Function();
        PciFunction? removed = null;
        bus.Removed += x => removed = x;
        Assert.True(bus.TryAdd(f));
        Assert.False(bus.TryAdd(Function()));
        Assert.True(bus.TryRemove(f.Address, out _));
        Assert.Same(f, removed);
        Assert.True(f.Removed);
        Assert.Empty(bus.Functions);
    }
}
