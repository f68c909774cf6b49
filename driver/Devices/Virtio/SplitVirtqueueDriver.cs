using System.Buffers.Binary;
using System.Runtime.InteropServices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>The driver side of a split virtqueue: rings in one DMA region, a free list of descriptors, add / kick / reap.</summary>
/// <remarks>
/// Design: the driver owns the descriptor table and available ring; <see cref="Publish"/> stores <c>avail.idx</c>
/// with release semantics once per burst (descriptors and ring entries visible before the index) and says whether
/// the device wants a notification (event index or NO_NOTIFY). Used elements are read after an acquire load of
/// <c>used.idx</c>. A used id the driver never made available is refused, not trusted.
/// Not thread-safe: one driver thread per queue.
/// </remarks>
public sealed unsafe class SplitVirtqueueDriver
{
    private readonly DmaRegion _rings;
    // Free descriptor ids and chain lengths in pinned arrays behind pointers: add and reap run per frame, and an id is
    // checked against the size once (a used id from the device) or comes from the free list (never out of range).
    private readonly ushort[] _free;
    private readonly ushort[] _chainLength;
    private readonly ushort* _freeP, _chainLengthP;
    private int _freeCount;
    private ushort _availIdx;
    private ushort _publishedAvail;
    private ushort _lastUsed;
    private ushort _usedShadow; // used.idx as last read: elements up to it are reaped without reading it again
    private readonly int _mask;
    private readonly byte* _desc, _avail, _used;

    private SplitVirtqueueDriver(DmaRegion rings, int size, bool eventIdx)
    {
        _rings = rings;
        Size = size;
        _mask = size - 1;
        _desc = rings.Pointer;
        _avail = _desc + AvailOffset(size);
        _used = _desc + UsedOffset(size);
        EventIdx = eventIdx;
        _free = GC.AllocateArray<ushort>(size, pinned: true);
        _chainLength = GC.AllocateArray<ushort>(size, pinned: true);
        _freeP = (ushort*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_free));
        _chainLengthP = (ushort*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_chainLength));
        for (int i = 0; i < size; i++) _free[i] = (ushort)(size - 1 - i);
        _freeCount = size;
        DescIova = rings.Iova;
        AvailIova = rings.Iova + (ulong)AvailOffset(size);
        UsedIova = rings.Iova + (ulong)UsedOffset(size);
    }

    public int Size { get; }

    public bool EventIdx { get; }

    public ulong DescIova { get; }

    public ulong AvailIova { get; }

    public ulong UsedIova { get; }

    public DmaRegion Rings => _rings;

    /// <summary>Descriptors not in use.</summary>
    public int FreeCount => _freeCount;

    private static int AvailOffset(int size) => VirtqLayout.DescTableBytes(size);

    private static int UsedOffset(int size) => (AvailOffset(size) + VirtqLayout.AvailBytes(size) + 3) & ~3;

    /// <summary>Allocates the rings for a queue of <paramref name="size"/> entries from <paramref name="owner"/>'s DMA budget.</summary>
    public static DmaError TryCreate(DmaMemory memory, DmaOwner owner, int size, bool eventIdx, out SplitVirtqueueDriver queue)
    {
        queue = null!;
        if (!VirtqLayout.IsValidSize(size)) return DmaError.BadSize;
        DmaError e = memory.TryAllocate(owner, UsedOffset(size) + VirtqLayout.UsedBytes(size), out DmaRegion rings);
        if (e == DmaError.None) queue = new SplitVirtqueueDriver(rings, size, eventIdx);
        return e;
    }

    // The rings as pointers into our own region's native block (never returned to the OS while the memory lives).
    // The driver owns the region; if it frees it, it must not use the queue again (the device fails closed on it).
    private byte* DescPtr => _desc;

    private byte* AvailPtr => _avail;

    private byte* UsedPtr => _used;

    /// <summary>Makes one buffer available as a single descriptor; false when the ring is full.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(ulong iova, int length, bool deviceWritable, out ushort head)
    {
        head = 0;
        if (_freeCount == 0) return false;
        head = _freeP[--_freeCount];
        byte* d = _desc + (head & _mask) * VirtqLayout.DescSize;
        *(ulong*)d = iova;
        *(uint*)(d + 8) = (uint)length;
        *(uint*)(d + 12) = deviceWritable ? VirtqLayout.DescFlagWrite : 0u; // flags, and next 0
        _chainLengthP[head] = 1;
        *(ushort*)(_avail + 4 + 2 * (_availIdx & _mask)) = head;
        _availIdx++;
        return true;
    }

    /// <summary>Makes a chain of segments available (device-readable ones first); false when too few descriptors are free.</summary>
    public bool TryAddChain(ReadOnlySpan<ulong> iovas, ReadOnlySpan<int> lengths, ReadOnlySpan<bool> writable, out ushort head)
    {
        head = 0;
        int n = iovas.Length;
        if (n == 0 || n > _freeCount || lengths.Length != n || writable.Length != n) return false;
        Span<ushort> ids = stackalloc ushort[n];
        for (int i = 0; i < n; i++) ids[i] = _free[--_freeCount];
        for (int i = 0; i < n; i++)
        {
            ushort flags = (ushort)((writable[i] ? VirtqLayout.DescFlagWrite : 0) | (i + 1 < n ? VirtqLayout.DescFlagNext : 0));
            WriteDesc(ids[i], iovas[i], (uint)lengths[i], flags, i + 1 < n ? ids[i + 1] : (ushort)0);
        }
        head = ids[0];
        _chainLength[head] = (ushort)n;
        Offer(head);
        return true;
    }

    /// <summary>Makes a chain available through one indirect descriptor pointing at <paramref name="table"/> (16 bytes per entry, written by the caller).</summary>
    public bool TryAddIndirect(ulong tableIova, int entries, out ushort head)
    {
        head = 0;
        if (_freeCount == 0) return false;
        head = _free[--_freeCount];
        WriteDesc(head, tableIova, (uint)(entries * VirtqLayout.DescSize), VirtqLayout.DescFlagIndirect, 0);
        _chainLength[head] = 1;
        Offer(head);
        return true;
    }

    /// <summary>Writes descriptor <paramref name="index"/> as is: for tests and scripts that build tables by hand.</summary>
    public void WriteDesc(ushort index, ulong addr, uint len, ushort flags, ushort next)
    {
        if (index >= Size) throw new ArgumentOutOfRangeException(nameof(index));
        byte* d = DescPtr + index * VirtqLayout.DescSize;
        *(ulong*)d = addr;
        *(uint*)(d + 8) = len;
        *(ushort*)(d + 12) = flags;
        *(ushort*)(d + 14) = next;
    }

    /// <summary>Reads descriptor <paramref name="index"/> back as it is in the table (for inspection).</summary>
    public (ulong Addr, uint Len, ushort Flags, ushort Next) ReadDesc(ushort index)
    {
        if (index >= Size) throw new ArgumentOutOfRangeException(nameof(index));
        byte* d = DescPtr + index * VirtqLayout.DescSize;
        return (*(ulong*)d, *(uint*)(d + 8), *(ushort*)(d + 12), *(ushort*)(d + 14));
    }

    /// <summary>Writes an available-ring entry as is (raw path): the next slot gets <paramref name="head"/>.</summary>
    public void Offer(ushort head)
    {
        *(ushort*)(AvailPtr + 4 + 2 * (_availIdx & _mask)) = head;
        _availIdx++;
    }

    /// <summary>Stores avail.idx (release) for everything offered; true when the device asked to be notified.</summary>
    public bool Publish()
    {
        if (_availIdx == _publishedAvail) return false;
        ushort old = _publishedAvail;
        Volatile.Write(ref *(ushort*)(AvailPtr + 2), _availIdx); // descriptors and entries visible before the index
        _publishedAvail = _availIdx;
        Interlocked.MemoryBarrier(); // before reading avail_event / flags
        if (EventIdx) return VirtqLayout.NeedEvent(*(ushort*)(UsedPtr + 4 + VirtqLayout.UsedElemSize * Size), _availIdx, old);
        return (*(ushort*)UsedPtr & VirtqLayout.UsedFlagNoNotify) == 0;
    }

    /// <summary>Forces avail.idx to a value (raw path: lets a test or script break the protocol on purpose).</summary>
    public void WriteAvailIdx(ushort value) => Volatile.Write(ref *(ushort*)(AvailPtr + 2), value);

    private bool _interrupts = true;

    /// <summary>Asks the device to interrupt for the next used element, or (polling) not to.</summary>
    public void SetInterrupts(bool enable)
    {
        _interrupts = enable;
        if (EventIdx) WriteUsedEvent();
        else *(ushort*)AvailPtr = enable ? (ushort)0 : VirtqLayout.AvailFlagNoInterrupt;
    }

    // With event index there is no "off": polling puts used_event half the index space ahead, refreshed as we reap.
    private void WriteUsedEvent() => *(ushort*)(AvailPtr + 4 + 2 * Size) = _interrupts ? _lastUsed : (ushort)(_lastUsed + 0x7FFF);

    /// <summary>Used elements the device published and the driver has not reaped.</summary>
    public int UsedPending => (ushort)(Volatile.Read(ref *(ushort*)(UsedPtr + 2)) - _lastUsed);

    /// <summary>Reaps one used element and frees its descriptors; false when none is pending or the id is bogus.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryGetUsed(out ushort head, out uint length)
    {
        head = 0;
        length = 0;
        if (_lastUsed == _usedShadow)
        {
            if (_rings.IsFreed) return false;
            ushort usedIdx = Volatile.Read(ref *(ushort*)(UsedPtr + 2)); // acquire: elements before it are visible
            if (usedIdx == _lastUsed) return false;
            _usedShadow = usedIdx; // read once per batch the device published
        }
        uint* elem = (uint*)(UsedPtr + 4 + VirtqLayout.UsedElemSize * (_lastUsed & _mask));
        uint id = elem[0];
        length = elem[1];
        if (id >= (uint)Size || _chainLengthP[id] == 0) return false; // the device lied: do not free what we never gave
        head = (ushort)id;
        _lastUsed++;
        if (_chainLengthP[id] == 1)
        {
            _freeP[_freeCount++] = head; // every id on the free list is off the ring: the list never overflows
            _chainLengthP[id] = 0;
        }
        else FreeChain(head);
        if (EventIdx && _lastUsed == _usedShadow) WriteUsedEvent(); // caught up: say when to interrupt next
        return true;
    }

    private void FreeChain(ushort head)
    {
        ushort index = head;
        for (int i = _chainLength[head]; i > 0; i--)
        {
            _free[_freeCount++] = index;
            index = (ushort)(*(ushort*)(DescPtr + index * VirtqLayout.DescSize + 14) & (Size - 1));
        }
        _chainLength[head] = 0;
    }
}
