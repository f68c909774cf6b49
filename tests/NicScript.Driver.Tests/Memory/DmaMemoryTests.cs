using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Memory;

public sealed class DmaMemoryTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _alice;
    private readonly DmaOwner _bob;

    public DmaMemoryTests()
    {
        _alice = _memory.CreateOwner("alice", 1 << 20);
        _bob = _memory.CreateOwner("bob", 1 << 20);
    }

    public void Dispose() => _memory.Dispose();

    private DmaRegion Alloc(DmaOwner owner, int size)
    {
        Assert.Equal(DmaError.None, _memory.TryAllocate(owner, size, out DmaRegion r));
        return r;
    }

    [Fact]
    public void TryAllocate_Region_IsPageAlignedZeroedAndResolvable()
    {
        DmaRegion r = Alloc(_alice, 100);
        Assert.Equal(0UL, r.Iova % IovaAllocator.PageSize);
        Assert.Equal(DmaError.None, _memory.TryResolve(r.Iova, 100, out Span<byte> span));
        Assert.True(span.ToArray().All(b => b == 0));
    }

    [Fact]
    public void TryAllocate_OverBudget_IsRefusedAndChargesNothing()
    {
        Alloc(_alice, 900_000);
        Assert.Equal(DmaError.BudgetExceeded, _memory.TryAllocate(_alice, 200_000, out _));
        Assert.Equal(IovaAllocator.RoundUp(900_000), (ulong)_alice.UsedBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void TryAllocate_BadSize_IsRefused(int size) => Assert.Equal(DmaError.BadSize, _memory.TryAllocate(_alice, size, out _));

    [Fact]
    public void TryResolve_RangeRunningPastRegionEnd_IsRefused()
    {
        DmaRegion r = Alloc(_alice, 4096);
        Assert.Equal(DmaError.CrossesRegion, _memory.TryResolve(r.Iova + 4000, 200, out _));
    }

    [Fact]
    public void TryResolve_GuardPageAfterRegion_IsOutOfBounds()
    {
        DmaRegion a = Alloc(_alice, 4096);
        Alloc(_alice, 4096);
        Assert.Equal(DmaError.OutOfBounds, _memory.TryResolve(a.Iova + 4096, 1, out _));
    }

    [Fact]
    public void TryWrite_OutsideEveryRegion_TouchesNothing()
    {
        DmaRegion r = Alloc(_alice, 64);
        Assert.Equal(DmaError.OutOfBounds, _memory.TryWrite(0xdead_0000, [1, 2, 3]));
        Assert.True(r.DeviceSpan.ToArray().All(b => b == 0));
    }

    [Fact]
    public void Free_ScrubsAndUnmaps_NextAllocationSeesZeros()
    {
        DmaRegion r = Alloc(_alice, 4096);
        r.DeviceSpan.Fill(0xAB);
        ulong iova = r.Iova;
        Assert.Equal(DmaError.None, _memory.Free(_alice, r));
        Assert.Equal(DmaError.OutOfBounds, _memory.TryResolve(iova, 1, out _));
        DmaRegion again = Alloc(_bob, 4096); // same size class: the pooled block comes back
        Assert.True(again.DeviceSpan.ToArray().All(b => b == 0));
        Assert.Equal(0, _alice.UsedBytes);
    }

    [Fact]
    public void Free_ByNonOwner_IsRefused()
    {
        DmaRegion r = Alloc(_alice, 64);
        Assert.Equal(DmaError.NotOwner, _memory.Free(_bob, r));
        Assert.False(r.IsFreed);
    }

    [Fact]
    public void Transfer_GiverLosesAccess_ReceiverGainsIt()
    {
        DmaRegion r = Alloc(_alice, 64);
        Assert.Equal(DmaError.None, r.Transfer(_alice, _bob));
        Assert.Equal(DmaError.NotOwner, r.CheckAccess(_alice, write: false));
        Assert.Equal(DmaError.None, r.CheckAccess(_bob, write: true));
        Assert.Equal(0, _alice.UsedBytes);
        Assert.Equal(4096, _bob.UsedBytes);
    }

    [Fact]
    public void Transfer_TwiceBySameGiver_SecondIsRefused()
    {
        DmaRegion r = Alloc(_alice, 64);
        r.Transfer(_alice, _bob);
        Assert.Equal(DmaError.NotOwner, r.Transfer(_alice, _bob));
    }

    [Fact]
    public void Transfer_ToOwnerWithoutRoom_IsRefusedAndKeepsOwner()
    {
        DmaOwner tiny = _memory.CreateOwner("tiny", 4096);
        DmaRegion r = Alloc(_alice, 8192);
        Assert.Equal(DmaError.BudgetExceeded, r.Transfer(_alice, tiny));
        Assert.Same(_alice, r.Owner);
    }

    [Fact]
    public void Lend_BorrowerReadsButCannotWrite_UntilRevoked()
    {
        DmaRegion r = Alloc(_alice, 64);
        Assert.Equal(DmaError.None, r.Lend(_alice, _bob));
        Assert.Equal(DmaError.None, r.CheckAccess(_bob, write: false));
        Assert.Equal(DmaError.ReadOnly, r.CheckAccess(_bob, write: true));
        Assert.Equal(DmaError.None, r.Revoke(_alice, _bob));
        Assert.Equal(DmaError.NotOwner, r.CheckAccess(_bob, write: false));
    }

    [Fact]
    public void Transfer_WhileLent_IsRefused()
    {
        DmaRegion r = Alloc(_alice, 64);
        r.Lend(_alice, _bob);
        Assert.Equal(DmaError.Lent, r.Transfer(_alice, _bob));
    }

    [Fact]
    public void Reclaim_FreesEverythingAnOwnerHolds()
    {
        Alloc(_alice, 64);
        Alloc(_alice, 9000);
        DmaRegion bobs = Alloc(_bob, 64);
        bobs.Lend(_bob, _alice);
        Assert.Equal(2, _memory.Reclaim(_alice));
        Assert.Equal(0, _alice.UsedBytes);
        Assert.Single(_memory.Regions);
        Assert.Empty(bobs.Loans);
    }

    [Fact]
    public void Find_ManyRegions_FindsEachByAnyInteriorAddress()
    {
        var regions = Enumerable.Range(1, 50).Select(i => Alloc(_alice, i * 100)).ToArray();
        foreach (DmaRegion r in regions)
        {
            Assert.Same(r, _memory.Find(r.Iova));
            Assert.Same(r, _memory.Find(r.Iova + (ulong)r.Length - 1));
        }
    }
}
