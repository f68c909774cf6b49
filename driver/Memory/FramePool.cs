namespace NicScript.Driver.Memory;

/// <summary>Fixed-size frame buffers carved out of one DMA region, handed out by index: the data path's buffers.</summary>
/// <remarks>
/// Design: one region for all slots keeps the device's IOVA lookups on one entry; a stack of free slot numbers makes
/// rent and return O(1) with no allocation. A slot's first <see cref="Headroom"/> bytes are for the device's header
/// (virtio_net_hdr), so a frame and its header go out as one descriptor. Not thread-safe: one driver owns a pool.
/// </remarks>
public sealed class FramePool
{
    private readonly int[] _free;
    private int _freeCount;

    private FramePool(DmaRegion region, int count, int slotSize, int headroom)
    {
        Region = region;
        Count = count;
        SlotSize = slotSize;
        Headroom = headroom;
        _free = new int[count];
        for (int i = 0; i < count; i++) _free[i] = count - 1 - i;
        _freeCount = count;
    }

    public DmaRegion Region { get; }

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
        if (e == DmaError.None) pool = new FramePool(region, count, slotSize, headroom);
        return e;
    }

    public ulong Iova(int slot) => Region.Iova + (ulong)slot * (ulong)SlotSize;

    /// <summary>The whole slot, header room included.</summary>
    public Span<byte> Slot(int slot) => Region.DeviceSpan.Slice(slot * SlotSize, SlotSize);

    /// <summary>The frame part of a slot.</summary>
    public Span<byte> Frame(int slot, int length) => Region.DeviceSpan.Slice(slot * SlotSize + Headroom, length);

    public bool TryRent(out int slot)
    {
        if (_freeCount == 0)
        {
            slot = -1;
            return false;
        }
        slot = _free[--_freeCount];
        return true;
    }

    public void Return(int slot) => _free[_freeCount++] = slot;
}
