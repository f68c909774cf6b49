using NicScript.Driver.Interrupts;

namespace NicScript.Driver.Tests.Interrupts;

/// <summary>The MSI-X window decodes aligned DWORD/QWORD accesses that lie wholly inside the table or the PBA, and nothing else.</summary>
public sealed class MsixWindowTests
{
    private const int Table = 0x2000, Pba = 0x3000;

    // 4 vectors: a 64-byte table at 0x2000, an 8-byte PBA at 0x3000.
    private readonly MsixTable _table = new(4);
    private readonly MsixWindow _window;

    public MsixWindowTests() => _window = new MsixWindow(_table, Table, Pba);

    [Theory]
    [InlineData(Table, 4, 0)]
    [InlineData(Table + 12, 4, 12)]
    [InlineData(Table + 56, 8, 56)] // the last QWORD of the table
    [InlineData(Table + 60, 4, 60)] // the last DWORD of the table
    public void InsideTheTable_IsTheTable(int offset, int size, int at)
    {
        Assert.Equal(MsixWindowPart.Table, _window.Decode(offset, size, out int got));
        Assert.Equal(at, got);
    }

    [Theory]
    [InlineData(Pba, 8, 0)]
    [InlineData(Pba + 4, 4, 4)]
    public void InsideThePba_IsThePba(int offset, int size, int at)
    {
        Assert.Equal(MsixWindowPart.Pba, _window.Decode(offset, size, out int got));
        Assert.Equal(at, got);
    }

    [Theory]
    [InlineData(Table + 64 - 4, 8)] // straddles the table's end (QWORD alignment aside, it runs past it)
    [InlineData(Table - 4, 8)]      // straddles the table's start
    [InlineData(Pba + 4, 8)]        // straddles the PBA's end
    public void Straddling_IsNotDecoded(int offset, int size) => Assert.Equal(MsixWindowPart.None, _window.Decode(offset, size, out _));

    [Theory]
    [InlineData(Table + 64, 4)]  // just past the table
    [InlineData(Table + 0x800, 4)] // in the gap between table and PBA
    [InlineData(Pba + 8, 4)]     // just past the PBA
    [InlineData(Table - 4, 4)]   // just before the table
    [InlineData(0, 4)]
    [InlineData(int.MaxValue - 3, 4)]
    [InlineData(-4, 4)]
    public void Outside_IsNotDecoded(int offset, int size) => Assert.Equal(MsixWindowPart.None, _window.Decode(offset, size, out _));

    [Theory]
    [InlineData(Table + 2, 4)] // DWORD not on a DWORD boundary
    [InlineData(Table + 4, 8)] // QWORD not on a QWORD boundary
    [InlineData(Table, 1)]     // byte and word accesses are not MSI-X accesses
    [InlineData(Table, 2)]
    [InlineData(Pba, 2)]
    [InlineData(Pba + 4, 8)]
    public void Unaligned_IsNotDecoded(int offset, int size) => Assert.Equal(MsixWindowPart.None, _window.Decode(offset, size, out _));

    [Fact]
    public void TableReadsAndWrites_ReachTheTable()
    {
        Assert.True(_window.TryWrite(Table + 16, 8, 0xFEE0_0000));
        Assert.True(_window.TryRead(Table + 16, 8, out ulong address));
        Assert.Equal(0xFEE0_0000UL, address);
        Assert.Equal(0xFEE0_0000UL, _table.ReadTable(16, 8));
        Assert.True(_window.TryWrite(Table + 16 + 12, 4, 0)); // unmask vector 1
        Assert.False(_table.IsMasked(1));
    }

    [Fact]
    public void PbaWrite_IsTakenAndIgnored_AndPbaReadsThePendingBits()
    {
        _table.Vector(2).Signal(); // not attached: the table reads as enabled, but vector 2 is masked at reset, so it pends
        Assert.True(_window.TryWrite(Pba, 8, 0));
        Assert.True(_window.TryRead(Pba, 8, out ulong pending));
        Assert.Equal(1UL << 2, pending);
    }

    [Fact]
    public void AccessesNotDecoded_ReadNothingAndWriteNothing()
    {
        Assert.False(_window.TryRead(Table + 64, 4, out ulong value));
        Assert.Equal(0UL, value);
        Assert.False(_window.TryWrite(Table + 60, 8, 0)); // would clear vector 3's mask if it were decoded as a QWORD at 60
        Assert.True(_table.IsMasked(3));
    }
}
