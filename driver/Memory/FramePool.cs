using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NicScript.Driver.Memory;

/// <summary>Fixed-size frame buffers carved out of one DMA region, handed out by index: the data path's buffers.</summary>
/// <remarks>
/// Design: one region for all slots keeps the device's IOVA lookups on one entry; a stack of free slot numbers makes
/// rent and return O(1) with no allocation. A slot's first <see cref="Headroom"/> bytes are for the device's header
/// (virtio_net_hdr), so a frame and its header go out as one descriptor. The free list is not thread-safe: one driver
/// owns a pool. MemShare works per slot: every slot has an owner (the pool's owner until a slot is transferred), changed
/// only by compare-and-swap, so a frame can move to another V-Node and back without a copy while the giver loses access.
/// </remarks>
public sealed unsafe class FramePool
{
    // The per-slot state lives in pinned arrays reached through pointers: rent and return run once per frame each, and
    // with a slot checked against Count once, every further access needs no bounds check of its own.
    private readonly int[] _free;
    private readonly int[] _slotOwner;
    private readonly bool[] _isFree;
    private readonly int[] _generation;
    private readonly int* _freeP, _slotOwnerP, _generationP;
    private readonly bool* _isFreeP;
    private readonly int _ownerId;
    private int _freeCount;
    private readonly System.Collections.Concurrent.ConcurrentQueue<int> _reclaimed = new();

    private FramePool(DmaRegion region, DmaOwner owner, int count, int slotSize, int headroom)
    {
        Region = region;
        Owner = owner;
        _ownerId = owner.Id;
        _slotOwner = GC.AllocateArray<int>(count, pinned: true);
        _slotOwner.AsSpan().Fill(owner.Id);
        _generation = GC.AllocateArray<int>(count, pinned: true);
        _isFree = GC.AllocateArray<bool>(count, pinned: true);
        _isFree.AsSpan().Fill(true);
        Count = count;
        SlotSize = slotSize;
        Headroom = headroom;
        _free = GC.AllocateArray<int>(count, pinned: true);
        _freeP = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_free));
        _slotOwnerP = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slotOwner));
        _generationP = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_generation));
        _isFreeP = (bool*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_isFree));
        for (int i = 0; i < count; i++) _free[i] = count - 1 - i;
        _freeCount = count;
    }

    public DmaRegion Region { get; }

    /// <summary>Who holds the pool (the V-Node that brought the NIC up); a slot's default owner.</summary>
    public DmaOwner Owner { get; }

    /// <summary>The owner id of slot <paramref name="slot"/>.</summary>
    public int SlotOwner(int slot) => Volatile.Read(ref _slotOwner[slot]);

    /// <summary>MemShare per slot: moves slot <paramref name="slot"/> from <paramref name="from"/> to <paramref name="to"/>; the giver loses access.</summary>
    public DmaError TransferSlot(int slot, DmaOwner from, DmaOwner to)
    {
        if ((uint)slot >= (uint)Count) return DmaError.OutOfBounds;
        if (Region.IsFreed) return DmaError.Freed;
        if (ReferenceEquals(from, to)) return DmaError.SelfTarget;
        if (Interlocked.CompareExchange(ref _slotOwner[slot], to.Id, from.Id) != from.Id) return DmaError.NotOwner;
        Interlocked.Increment(ref _generation[slot]); // every view made before the move is dead, even if the slot comes back
        return DmaError.None;
    }

    /// <summary>Slot <paramref name="slot"/>'s generation: it changes whenever the slot moves, so a stale view is told apart from a live one.</summary>
    public int Generation(int slot) => Volatile.Read(ref _generation[slot]);

    /// <summary>Slot <paramref name="slot"/>'s frame bytes as <paramref name="who"/>, holding a view of <paramref name="generation"/>, may see them.</summary>
    public DmaError TryGetFrame(DmaOwner who, int slot, int generation, int length, out Span<byte> frame)
    {
        frame = default;
        if ((uint)slot >= (uint)Count || length < 0 || length > MaxFrame) return DmaError.OutOfBounds;
        if (Region.IsFreed) return DmaError.Freed;
        if (SlotOwner(slot) != who.Id || Generation(slot) != generation) return DmaError.NotOwner;
        frame = Frame(slot, length);
        return DmaError.None;
    }

    public int Count { get; }

    public int SlotSize { get; }

    public int Headroom { get; }

    /// <summary>The largest frame a slot holds.</summary>
    public int MaxFrame => SlotSize - Headroom;

    public int FreeCount => _freeCount;

    public static DmaError TryCreate(DmaMemory memory, DmaOwner owner, int count, int slotSize, int headroom, out FramePool pool)
    {
        pool = null!;
        if (count <= 0 || slotSize <= headroom || (long)count * slotSize > DmaMemory.MaxRegionBytes) return DmaError.BadSize;
        DmaError e = memory.TryAllocate(owner, count * slotSize, out DmaRegion region);
        if (e == DmaError.None) pool = new FramePool(region, owner, count, slotSize, headroom);
        return e;
    }

    public ulong Iova(int slot) => Region.Iova + (ulong)slot * (ulong)SlotSize;

    /// <summary>The whole slot, header room included.</summary>
    public Span<byte> Slot(int slot) => Region.DeviceSpan.Slice(slot * SlotSize, SlotSize);

    /// <summary>Slot <paramref name="slot"/>'s first byte (its header room) for the driver that owns the pool, or null once the
    /// pool's region is freed; a slot number outside the pool throws, as <see cref="Slot"/> does.</summary>
    internal byte* SlotBytes(int slot)
    {
        CheckSlot(slot);
        byte* p = Block;
        return p is null ? null : p + (nint)slot * SlotSize;
    }

    /// <summary>Slot 0's first byte, or null once the pool's region is freed: a burst loop reads it once and checks each
    /// slot with <see cref="CheckSlot"/>.</summary>
    internal byte* Block => Region.IsFreed ? null : Region.Pointer;

    /// <summary>Throws for a slot number outside the pool (a caller's bug: a burst only ever holds the pool's slots).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CheckSlot(int slot)
    {
        if ((uint)slot >= (uint)Count) ThrowNotASlot(slot);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotASlot(int slot) => throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not one of the pool's {Count}");

    /// <summary>The frame part of a slot.</summary>
    public Span<byte> Frame(int slot, int length) => Region.DeviceSpan.Slice(slot * SlotSize + Headroom, length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRent(out int slot)
    {
        if (_freeCount == 0 && !DrainReclaimed())
        {
            slot = -1;
            return false;
        }
        slot = _freeP[--_freeCount]; // only slots below Count are ever pushed
        _isFreeP[slot] = false;
        Volatile.Write(ref _generationP[slot], _generationP[slot] + 1); // a free slot is touched by the owner's thread only
        return true;
    }

    /// <summary>A slot the owner had lent out (to a device) and got back, kept rented for a new frame instead of going
    /// through the free list: its generation moves as if it had been returned and rented again, so views of the old frame
    /// die. False (nothing changed) for a slot another V-Node now holds, one that is free, or one outside the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReuse(int slot)
    {
        if ((uint)slot >= (uint)Count || Volatile.Read(ref _slotOwnerP[slot]) != _ownerId || _isFreeP[slot]) return false;
        Volatile.Write(ref _generationP[slot], _generationP[slot] + 1); // held by the owner: no transfer can race this
        return true;
    }

    /// <summary>Takes back every slot <paramref name="holder"/> still holds (it stopped): they return to the free list on the
    /// owner's next rent, so this may run on any thread.</summary>
    public int Reclaim(DmaOwner holder)
    {
        if (ReferenceEquals(holder, Owner)) return 0;
        int n = 0;
        for (int slot = 0; slot < Count; slot++)
            if (Interlocked.CompareExchange(ref _slotOwner[slot], Owner.Id, holder.Id) == holder.Id)
            {
                _reclaimed.Enqueue(slot);
                n++;
            }
        return n;
    }

    /// <summary>Gives slot <paramref name="slot"/>, held by <paramref name="holder"/>, back to the pool (its owner's next rent
    /// takes it from the free list), from any thread; false when <paramref name="holder"/> does not hold it.</summary>
    public bool GiveBack(int slot, DmaOwner holder)
    {
        if ((uint)slot >= (uint)Count || ReferenceEquals(holder, Owner)) return false;
        if (Interlocked.CompareExchange(ref _slotOwner[slot], Owner.Id, holder.Id) != holder.Id) return false;
        Interlocked.Increment(ref _generation[slot]); // the holder's views die with the move
        _reclaimed.Enqueue(slot);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool DrainReclaimed()
    {
        while (_reclaimed.TryDequeue(out int slot))
            if (!_isFree[slot])
            {
                _isFree[slot] = true;
                _free[_freeCount++] = slot;
            }
        return _freeCount > 0;
    }

    /// <summary>Puts a slot back on the free list; refused (false) for a slot another V-Node holds or one already free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Return(int slot)
    {
        if ((uint)slot >= (uint)Count || Volatile.Read(ref _slotOwnerP[slot]) != _ownerId || _isFreeP[slot]) return false;
        _isFreeP[slot] = true;
        Volatile.Write(ref _generationP[slot], _generationP[slot] + 1); // held by the owner: no transfer can race this
        _freeP[_freeCount++] = slot; // a slot is on the list at most once (_isFree): the list never overflows
        return true;
    }
}
