using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Memory;

public sealed class FramePoolTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _bridge, _stack;
    private readonly FramePool _pool;

    public FramePoolTests()
    {
        _bridge = _memory.CreateOwner("net-bridge", 16 << 20);
        _stack = _memory.CreateOwner("aethernet", 16 << 20);
        Assert.Equal(DmaError.None, FramePool.TryCreate(_memory, _bridge, 8, 2048, 12, out _pool));
    }

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void TransferSlot_GiverLosesAccess_ReceiverGainsIt_AndBack()
    {
        _pool.TryRent(out int slot);
        Assert.Equal(DmaError.None, _pool.TransferSlot(slot, _bridge, _stack));
        int gen = _pool.Generation(slot);
        Assert.Equal(DmaError.NotOwner, _pool.TryGetFrame(_bridge, slot, gen, 60, out _));
        Assert.Equal(DmaError.None, _pool.TryGetFrame(_stack, slot, gen, 60, out _));
        Assert.Equal(DmaError.NotOwner, _pool.TransferSlot(slot, _bridge, _stack)); // not the giver's any more
        Assert.False(_pool.Return(slot));                                          // the pool cannot take back what it lent
        int before = _pool.Generation(slot);
        Assert.Equal(DmaError.None, _pool.TransferSlot(slot, _stack, _bridge));
        Assert.Equal(DmaError.NotOwner, _pool.TryGetFrame(_bridge, slot, before - 1, 60, out _)); // a view from before it left stays dead
        Assert.True(_pool.Return(slot));
    }

    [Fact]
    public void GiveBack_ByTheHolder_FreesTheSlot_TheHoldersViewDies_ANonHolderIsRefused()
    {
        for (int i = 0; i < 8; i++) _pool.TryRent(out _);
        int slot = 3;
        Assert.Equal(DmaError.None, _pool.TransferSlot(slot, _bridge, _stack));
        int gen = _pool.Generation(slot);
        Assert.False(_pool.GiveBack(slot, _bridge));            // the bridge does not hold it now
        Assert.True(_pool.GiveBack(slot, _stack));
        Assert.False(_pool.GiveBack(slot, _stack));             // once
        Assert.Equal(DmaError.NotOwner, _pool.TryGetFrame(_stack, slot, gen, 60, out _));
        Assert.True(_pool.TryRent(out int again));              // the pool was empty: the slot given back is what it rents
        Assert.Equal(slot, again);
    }

    [Fact]
    public void Reuse_KeepsTheSlotRented_KillsOldViews_AndRefusesWhatThePoolDoesNotHold()
    {
        _pool.TryRent(out int slot);
        int gen = _pool.Generation(slot);
        Assert.True(_pool.TryReuse(slot));
        Assert.Equal(7, _pool.FreeCount);                                         // still rented: not via the free list
        Assert.Equal(DmaError.NotOwner, _pool.TryGetFrame(_bridge, slot, gen, 60, out _)); // a view of the old frame is dead
        Assert.Equal(DmaError.None, _pool.TryGetFrame(_bridge, slot, _pool.Generation(slot), 60, out _));
        Assert.Equal(DmaError.None, _pool.TransferSlot(slot, _bridge, _stack));
        Assert.False(_pool.TryReuse(slot));                                       // another V-Node holds it now
        Assert.Equal(DmaError.None, _pool.TransferSlot(slot, _stack, _bridge));
        Assert.True(_pool.Return(slot));
        Assert.False(_pool.TryReuse(slot));                                       // free: only a rent takes it
        Assert.False(_pool.TryReuse(8));
        Assert.False(_pool.TryReuse(-1));
    }

    [Fact]
    public void BurstPut_KillsEveryEarlierView_AndRefusesASlotTheBurstHoldsOrThePoolDoesNot()
    {
        var burst = new FrameBurst(_pool, 2);
        Assert.True(burst.Fill());
        int slot = burst.Take(0);
        int gen = _pool.Generation(slot);
        burst.Put(0, slot, 64);
        Assert.Equal(DmaError.NotOwner, _pool.TryGetFrame(_bridge, slot, gen, 60, out _)); // a handle made before is dead
        Assert.Throws<InvalidOperationException>(() => burst.Put(1, slot, 64));             // one holder: not twice
        int other = burst.Take(1);
        Assert.Equal(DmaError.None, _pool.TransferSlot(other, _bridge, _stack));
        Assert.Throws<InvalidOperationException>(() => burst.Put(1, other, 64));            // another V-Node's
        Assert.Equal(slot, burst.Slot(0));
    }

    [Fact]
    public void Return_Twice_IsRefused()
    {
        _pool.TryRent(out int slot);
        Assert.True(_pool.Return(slot));
        Assert.False(_pool.Return(slot));
        Assert.Equal(8, _pool.FreeCount);
    }

    [Fact]
    public void BurstTake_LeavesAFreshSlot_AndPutReturnsTheOldOne()
    {
        var burst = new FrameBurst(_pool, 2);
        Assert.True(burst.Fill());
        int taken = burst.Take(0);
        Assert.NotEqual(taken, burst.Slot(0));
        Assert.Equal(5, _pool.FreeCount); // 8 - 2 in the burst - 1 taken
        burst.Put(0, taken, 64);
        Assert.Equal(6, _pool.FreeCount);
        Assert.Equal((taken, 64), (burst.Slot(0), burst.Length(0)));
    }
}
