using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>The device side of a virtio split virtqueue over DMA memory: pops available chains, pushes used elements.</summary>
/// <remarks>
/// Design (virtio 1.x §2.7): the driver owns the descriptor table and the available ring and publishes
/// <c>avail.idx</c>; the device owns the used ring and publishes <c>used.idx</c>. The device reads <c>avail.idx</c>
/// with acquire semantics (entries before it are visible), writes used elements, then stores <c>used.idx</c> with
/// release semantics (elements visible before the index) — pushes are batched and published once per burst.
/// Nothing the driver wrote is trusted: an index that runs ahead, a head or next out of range, a chain longer than
/// the table (a loop), a buffer outside the function's IOMMU domain, a malformed indirect table — each returns a
/// <see cref="VirtqFault"/> and touches nothing; the device model then sets DEVICE_NEEDS_RESET (or fails the request,
/// where its spec says so). Every DMA the queue does goes through the domain: the three ring areas are checked at
/// creation and again (a reference compare each) at every entry point, so a ring freed, transferred away or no longer
/// reachable stops the queue at once; buffers are checked when popped and when reached (<see cref="DescriptorChain"/>).
/// Not thread-safe: the owning device serialises access to a queue.
/// </remarks>
public sealed unsafe class SplitVirtqueue
{
    private readonly IommuDomain _domain;
    private readonly DmaRegion _descRegion, _availRegion, _usedRegion;
    private long _ringsCheckedAt = -1; // the revocation count at which all three areas were last found in the domain
    private ushort _nextAvail;
    private ushort _availShadow; // avail.idx as last read: chains up to it are the driver's to take without reading it again
    private ushort _nextUsed;
    private readonly int _mask;

    // The buffer region the last single-descriptor pop found, and the revocation count it was found at: the next buffer in
    // the same region (a frame pool's next slot) is inside the domain as long as nothing was revoked since.
    private DmaRegion? _hitRegion;
    private ulong _hitIova;
    private ulong _hitLength;
    private byte* _hitBytes;
    private long _hitAt = -1;
    private bool _hitWrite;
    private ushort _publishedUsed;

    private SplitVirtqueue(IommuDomain domain, int size, DmaRegion desc, int descOff, DmaRegion avail, int availOff,
        DmaRegion used, int usedOff, bool eventIdx, bool indirect)
    {
        _domain = domain;
        Size = size;
        _mask = size - 1;
        (_descRegion, _availRegion, _usedRegion) = (desc, avail, used);
        // Taken once, while the regions are live: a block is never given back to the OS while the memory lives, so these
        // never dangle even if a region is freed between a check and a use (its pointer field is nulled then).
        _descPtr = desc.Pointer + descOff;
        _availPtr = avail.Pointer + availOff;
        _usedPtr = used.Pointer + usedOff;
        EventIdx = eventIdx;
        Indirect = indirect;
    }

    public int Size { get; }

    /// <summary>VIRTIO_F_EVENT_IDX negotiated: notifications use used_event / avail_event.</summary>
    public bool EventIdx { get; }

    /// <summary>VIRTIO_F_INDIRECT_DESC negotiated.</summary>
    public bool Indirect { get; }

    /// <summary>The next available-ring slot the device will consume.</summary>
    public ushort NextAvail => _nextAvail;

    /// <summary>The used index published to the driver.</summary>
    public ushort PublishedUsed => _publishedUsed;

    /// <summary>Checks that the three areas are inside the function's domain (descriptor table and available ring readable,
    /// used ring writable) and builds the queue; the device refuses DRIVER_OK otherwise.</summary>
    public static VirtqFault TryCreate(IommuDomain domain, int size, ulong descIova, ulong availIova, ulong usedIova,
        bool eventIdx, bool indirect, out SplitVirtqueue queue)
    {
        queue = null!;
        Debug.Assert(BitConverter.IsLittleEndian, "ring words are read in host order on a little-endian host");
        if (!VirtqLayout.IsValidSize(size)) return VirtqFault.DescriptorIndexOutOfRange;
        if (descIova % 16 != 0 || availIova % 2 != 0 || usedIova % 4 != 0 ||
            domain.TryLocate(descIova, VirtqLayout.DescTableBytes(size), write: false, out DmaRegion d, out int dOff) != DmaError.None ||
            domain.TryLocate(availIova, VirtqLayout.AvailBytes(size), write: false, out DmaRegion a, out int aOff) != DmaError.None ||
            domain.TryLocate(usedIova, VirtqLayout.UsedBytes(size), write: true, out DmaRegion u, out int uOff) != DmaError.None)
            return VirtqFault.RingOutsideDma;
        queue = new SplitVirtqueue(domain, size, d, dOff, a, aOff, u, uOff, eventIdx, indirect);
        return VirtqFault.None;
    }

    // Hot path: the ring areas as pointers into the regions' native blocks. The blocks are never returned to the OS
    // while the DmaMemory lives (freed ones are pooled), and every entry point first asks whether the domain still
    // reaches all three areas (RingsLost: a full check only when the machine's revocation count moved since the last
    // one), so a pointer can only ever reach memory the function may; every index is reduced modulo the size or
    // checked against it before use.
    private readonly byte* _descPtr, _availPtr, _usedPtr;

    private byte* DescPtr => _descPtr;

    private byte* AvailPtr => _availPtr;

    private byte* UsedPtr => _usedPtr;

    private Span<byte> Desc => new(DescPtr, VirtqLayout.DescTableBytes(Size));

    /// <summary>True when any ring area left the function's domain (freed, transferred away, its driver detached): it must
    /// not be touched again.</summary>
    public bool RingsLost
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _domain.Revocations != _ringsCheckedAt && !RingsStillReachable();
    }

    /// <summary>The full check, after something somewhere was revoked; remembers the count it passed at.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RingsStillReachable()
    {
        long at = _domain.Revocations; // read before checking: a revocation during the check moves it and forces another
        if (!Reaches(_descRegion, false) || !Reaches(_availRegion, false) || !Reaches(_usedRegion, true)) return false;
        _ringsCheckedAt = at;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Reaches(DmaRegion ring, bool write) => _domain.Check(ring, write) == DmaError.None;

    /// <summary>Counts and reports the DMA fault of a ring that left the domain (the device then needs reset).</summary>
    private VirtqFault RingFault()
    {
        DmaRegion lost = _domain.Check(_descRegion, false) != DmaError.None ? _descRegion
            : _domain.Check(_availRegion, false) != DmaError.None ? _availRegion : _usedRegion;
        bool write = ReferenceEquals(lost, _usedRegion);
        _domain.Fault(lost.Iova, lost.Length, write, _domain.Check(lost, write) is var e && e != DmaError.None ? e : DmaError.IommuFault);
        return VirtqFault.RingOutsideDma;
    }

    /// <summary>avail.idx, read with acquire semantics: the ring entries before it are visible.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ushort ReadAvailIdx() => Volatile.Read(ref *(ushort*)(AvailPtr + 2));

    /// <summary>Chains the driver has made available and the device has not consumed (0 on a fault; the next pop reports it).</summary>
    public int Pending => RingsLost ? 0 : (ushort)(ReadAvailIdx() - _nextAvail) is var n && n <= Size ? n : 0;

    /// <summary>The frame path: takes the next available chain only if it is one descriptor the device may
    /// <paramref name="write"/> (or read), of <paramref name="minLength"/> to <paramref name="maxLength"/> bytes, in the region
    /// the last pop found, with nothing revoked since — and returns its bytes. False (nothing consumed) for anything else,
    /// which <see cref="TryPop"/> then takes with every check.</summary>
    public bool TryPopBuffer(bool write, int minLength, int maxLength, out ushort head, out Span<byte> bytes)
    {
        // A burst of one: the same checks as the burst path, in one place.
        Span<ushort> heads = stackalloc ushort[1];
        Span<nint> at = stackalloc nint[1];
        Span<int> lengths = stackalloc int[1];
        if (TryPopBuffers(write, minLength, maxLength, heads, at, lengths) == 1)
        {
            head = heads[0];
            bytes = new Span<byte>((void*)at[0], lengths[0]);
            return true;
        }
        head = 0;
        bytes = default;
        return false;
    }

    /// <summary>The frame path for a burst: <see cref="TryPopBuffer"/> for up to <paramref name="heads"/>' length chains in a
    /// row, with the revocation count, the available index and the cached region read once. Stops (consuming nothing
    /// more) at the first chain that is not a lone descriptor of the right direction and size in the cached region;
    /// <see cref="TryPop"/> then takes it with every check. Returns how many were taken: their heads, the bytes' first
    /// address and lengths, valid until the used ring is published.</summary>
    public int TryPopBuffers(bool write, int minLength, int maxLength, Span<ushort> heads, Span<nint> at, Span<int> lengths)
    {
        long revocations = _domain.Revocations;
        if (revocations != _ringsCheckedAt || revocations != _hitAt || (write && !_hitWrite)) return 0;
        int max = Math.Min(heads.Length, Math.Min(at.Length, lengths.Length));
        int ready = (ushort)(_availShadow - _nextAvail);
        if (ready < max)
        {
            ushort avail = ReadAvailIdx(); // acquire, once per burst
            int ahead = (ushort)(avail - _nextAvail);
            if (ahead <= Size) // further is the driver's fault: TryPop reports it
            {
                _availShadow = avail;
                ready = ahead;
            }
        }
        if (max > ready) max = ready;
        ushort flags = write ? VirtqLayout.DescFlagWrite : (ushort)0;
        ulong hitIova = _hitIova, hitLength = _hitLength;
        byte* hitBytes = _hitBytes, avail0 = _availPtr + 4, desc0 = _descPtr;
        ushort next = _nextAvail;
        int n = 0;
        for (; n < max; n++)
        {
            ushort head = *(ushort*)(avail0 + 2 * ((next + n) & _mask));
            if (head >= Size) break;
            byte* d = desc0 + head * VirtqLayout.DescSize;
            ulong addr = *(ulong*)d; // read once: the checks below are on these values, whatever the driver writes meanwhile
            uint len = *(uint*)(d + 8);
            ulong off = addr - hitIova;
            if (*(ushort*)(d + 12) != flags || len < (uint)minLength || len > (uint)maxLength || off >= hitLength || len > hitLength - off) break;
            heads[n] = head;
            at[n] = (nint)(hitBytes + off);
            lengths[n] = (int)len;
        }
        _nextAvail = (ushort)(next + n);
        return n;
    }

    /// <summary>Takes the next available chain into <paramref name="chain"/>; <paramref name="popped"/> is false when there is none.</summary>
    public VirtqFault TryPop(DescriptorChain chain, out bool popped)
    {
        popped = false;
        long revocations = _domain.Revocations; // read before anything is checked: a revocation after it shows at the next use
        if (revocations != _ringsCheckedAt && !RingsStillReachable()) return RingFault();
        if (_nextAvail == _availShadow)
        {
            ushort avail = ReadAvailIdx(); // once per burst the driver published, not once per chain
            if (avail == _nextAvail) return VirtqFault.None;
            if ((ushort)(avail - _nextAvail) > Size) return VirtqFault.AvailIndexRunsAhead; // a driver bug or attack: never spin on it
            _availShadow = avail;
        }
        ushort head = *(ushort*)(AvailPtr + 4 + 2 * (_nextAvail & _mask));
        VirtqFault fault = ReadChain(head, chain, revocations);
        if (fault != VirtqFault.None) return fault;
        _nextAvail++;
        popped = true;
        return VirtqFault.None;
    }

    /// <summary>After <see cref="TryPop"/> reported <see cref="VirtqFault.DescriptorOutsideDma"/>: consumes that chain
    /// unread and returns its head, so a device that treats a bad buffer as the request's error (not the ring's) can
    /// complete it as failed and go on.</summary>
    public ushort DiscardNext()
    {
        if (RingsLost) return 0;
        ushort head = *(ushort*)(AvailPtr + 4 + 2 * (_nextAvail & _mask));
        _nextAvail++;
        return head;
    }

    private VirtqFault ReadChain(ushort head, DescriptorChain chain, long revocations)
    {
        if (head >= Size) return VirtqFault.DescriptorIndexOutOfRange;
        byte* first = DescPtr + head * VirtqLayout.DescSize;
        ushort headFlags = *(ushort*)(first + 12);
        if ((headFlags & (VirtqLayout.DescFlagNext | VirtqLayout.DescFlagIndirect)) == 0)
        {
            // One descriptor (a frame buffer): checked against the region the last one was found in, when nothing was revoked since.
            ulong addr = *(ulong*)first;
            uint len = *(uint*)(first + 8);
            bool writable = (headFlags & VirtqLayout.DescFlagWrite) != 0;
            if (InHitRegion(addr, len, writable, revocations, out ulong off))
            {
                chain.SetSingle(head, _domain, revocations, addr, (int)len, writable, _hitRegion!, (int)off, _hitBytes + off);
                return VirtqFault.None;
            }
            return ReadSingle(head, chain, revocations, addr, len, writable);
        }
        chain.Reset(head, _domain, revocations);
        Span<byte> table = Desc;
        int tableSize = Size;
        ushort index = head;
        bool inIndirect = false, sawWritable = false;
        for (int visited = 0; ; visited++)
        {
            if (visited >= tableSize) return VirtqFault.ChainLoop;
            ReadOnlySpan<byte> d = table.Slice(index * VirtqLayout.DescSize, VirtqLayout.DescSize);
            ulong addr = BinaryPrimitives.ReadUInt64LittleEndian(d);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(d[12..]);
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);

            if ((flags & VirtqLayout.DescFlagIndirect) != 0)
            {
                if (!Indirect) return VirtqFault.IndirectNotNegotiated;
                if (inIndirect) return VirtqFault.NestedIndirect;
                if ((flags & VirtqLayout.DescFlagNext) != 0 || len == 0 || len % VirtqLayout.DescSize != 0 || len > VirtqLayout.MaxSize * VirtqLayout.DescSize)
                    return VirtqFault.BadIndirectTable;
                if (_domain.TryResolve(addr, (int)len, write: false, out table) != DmaError.None) return VirtqFault.DescriptorOutsideDma;
                tableSize = (int)(len / VirtqLayout.DescSize);
                inIndirect = true;
                index = 0;
                visited = -1;
                continue;
            }

            bool writable = (flags & VirtqLayout.DescFlagWrite) != 0;
            if (!writable && sawWritable) return VirtqFault.ReadableAfterWritable;
            sawWritable |= writable;
            if (len > int.MaxValue || _domain.TryLocate(addr, (int)len, writable, out DmaRegion region, out int offset) != DmaError.None)
            {
                // Outside the domain (the fault is counted): keep reading the chain, so a device whose spec fails just
                // the request can still find its status byte; the pop reports DescriptorOutsideDma at the end.
                if (!chain.TryAddFaulted(addr, (int)Math.Min(len, int.MaxValue), writable)) return VirtqFault.ChainTooLong;
            }
            else if (!chain.TryAdd(addr, (int)len, writable, region, offset, BytesOf(region, offset))) return VirtqFault.ChainTooLong;

            if ((flags & VirtqLayout.DescFlagNext) == 0) return chain.Faulted ? VirtqFault.DescriptorOutsideDma : VirtqFault.None;
            if (next >= tableSize) return VirtqFault.DescriptorIndexOutOfRange;
            index = next;
        }
    }

    /// <summary>Whether [<paramref name="addr"/>, +<paramref name="len"/>) lies in the region the last one-descriptor pop
    /// found, for that access, with nothing revoked since; <paramref name="off"/> is its offset there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool InHitRegion(ulong addr, uint len, bool write, long revocations, out ulong off)
    {
        off = addr - _hitIova;
        return revocations == _hitAt && off < _hitLength && len <= _hitLength - off && (_hitWrite || !write);
    }

    /// <summary>A one-descriptor chain outside the cached region: located in the domain (a fault is counted there) and, when
    /// found, its region remembered for the next pop.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private VirtqFault ReadSingle(ushort head, DescriptorChain chain, long revocations, ulong addr, uint len, bool writable)
    {
        if (len > int.MaxValue || _domain.TryLocate(addr, (int)len, writable, out DmaRegion region, out int offset) != DmaError.None)
        {
            chain.Reset(head, _domain, revocations);
            chain.TryAddFaulted(addr, (int)Math.Min(len, int.MaxValue), writable);
            return VirtqFault.DescriptorOutsideDma;
        }
        byte* block = region.Pointer;
        if (block is not null)
        {
            _hitRegion = region;
            _hitIova = region.Iova;
            _hitLength = (ulong)region.Length;
            _hitBytes = block;
            _hitAt = revocations;
            _hitWrite = writable;
            chain.SetSingle(head, _domain, revocations, addr, (int)len, writable, region, offset, block + offset);
        }
        else
        {
            chain.Reset(head, _domain, revocations);
            chain.TryAdd(addr, (int)len, writable, region, offset, null); // freed since it was located: Segment faults
        }
        return VirtqFault.None;
    }

    private static byte* BytesOf(DmaRegion region, int offset) => region.Pointer is var p && p is not null ? p + offset : null;

    /// <summary>Puts one used element; it becomes visible to the driver at <see cref="PublishUsed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushUsed(ushort head, uint len)
    {
        if (RingsLost) return;
        uint* elem = (uint*)(UsedPtr + 4 + VirtqLayout.UsedElemSize * (_nextUsed & _mask));
        elem[0] = head;
        elem[1] = len;
        _nextUsed++;
    }

    /// <summary>Puts one used element per head, each of <paramref name="lengths"/>' length (or <paramref name="length"/> for
    /// all when <paramref name="lengths"/> is empty): one ring check for the burst.</summary>
    public void PushUsed(ReadOnlySpan<ushort> heads, ReadOnlySpan<int> lengths, uint length = 0)
    {
        if (!lengths.IsEmpty && lengths.Length < heads.Length) throw new ArgumentException("a length for each head", nameof(lengths));
        if (RingsLost) return;
        byte* used0 = UsedPtr + 4;
        ushort next = _nextUsed;
        bool each = !lengths.IsEmpty;
        for (int i = 0; i < heads.Length; i++)
        {
            uint* elem = (uint*)(used0 + VirtqLayout.UsedElemSize * ((next + i) & _mask));
            elem[0] = heads[i];
            elem[1] = each ? (uint)lengths[i] : length;
        }
        _nextUsed = (ushort)(next + heads.Length);
    }

    /// <summary>Stores used.idx with release semantics; returns whether the driver asked to be interrupted for it.</summary>
    public bool PublishUsed()
    {
        if (_nextUsed == _publishedUsed || RingsLost) return false;
        ushort old = _publishedUsed;
        Volatile.Write(ref *(ushort*)(UsedPtr + 2), _nextUsed); // elements visible before the index
        _publishedUsed = _nextUsed;
        Interlocked.MemoryBarrier(); // before reading used_event / flags (virtio §2.7.10)
        if (EventIdx)
        {
            ushort usedEvent = *(ushort*)(AvailPtr + 4 + 2 * Size);
            return VirtqLayout.NeedEvent(usedEvent, _nextUsed, old);
        }
        return (*(ushort*)AvailPtr & VirtqLayout.AvailFlagNoInterrupt) == 0;
    }

    /// <summary>Asks the driver to notify (kick) once <c>avail.idx</c> passes the next slot; or to stop, with <paramref name="enable"/> false.</summary>
    public void SetNotification(bool enable)
    {
        if (RingsLost) return;
        if (EventIdx) *(ushort*)(UsedPtr + 4 + VirtqLayout.UsedElemSize * Size) = _nextAvail;
        else *(ushort*)UsedPtr = enable ? (ushort)0 : VirtqLayout.UsedFlagNoNotify;
        Interlocked.MemoryBarrier();
    }
}
