using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>A GDMA DMA region as the device sees it: the driver's 4 KiB page list, located once in the VF's IOMMU domain.</summary>
/// <remarks>Pages need not be contiguous; an access never straddles a page (CQEs, EQEs and WQE basic units divide 4096).
/// A page found in the domain is remembered with the machine's revocation count (<see cref="DmaMemory.Revocations"/>) of
/// that check: while the count stays, nothing anywhere lost access and the page's bytes are reached by pointer (one compare
/// per entry, as <c>SplitVirtqueue</c> does for its rings); once it moves, the next access asks the domain again, so a page
/// freed, transferred away or no longer reachable faults (counted) and reads as empty. Used under the device's lock.</remarks>
public sealed unsafe class GdmaDmaRegion
{
    private readonly DmaRegion[] _regions;
    private readonly int[] _offsets;
    private readonly IommuDomain _dma;
    private readonly nint[] _pageBytes; // each page's first byte, valid while _pageAt holds the current revocation count
    private readonly long[] _pageAt;
    private readonly bool[] _pageWrite;

    internal GdmaDmaRegion(ulong handle, ulong length, DmaRegion[] regions, int[] offsets, IommuDomain dma)
    {
        Handle = handle;
        Length = length;
        _regions = regions;
        _offsets = offsets;
        _dma = dma;
        _pageBytes = new nint[regions.Length];
        _pageAt = new long[regions.Length];
        _pageAt.AsSpan().Fill(-1);
        _pageWrite = new bool[regions.Length];
    }

    public ulong Handle { get; }

    internal GdmaDmaRegion WithHandle(ulong handle) => new(handle, Length, _regions, _offsets, _dma);

    public ulong Length { get; }

    /// <summary>Queues built on this region (a region in use cannot be destroyed).</summary>
    public int Users { get; internal set; }

    /// <summary>The bytes at [<paramref name="offset"/>, +<paramref name="length"/>) inside one page; empty if straddling, or
    /// outside the domain now (a DMA fault). The device writes CQEs and EQEs and reads work queues: <paramref name="write"/> says which.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Bytes(long offset, int length, bool write = true)
    {
        long page = offset / ManaRegisters.PageSize;
        int inPage = (int)(offset % ManaRegisters.PageSize);
        if (offset < 0 || length < 0 || page >= _regions.Length || inPage + length > ManaRegisters.PageSize) return Span<byte>.Empty;
        long revocations = _dma.Revocations;
        if (_pageAt[page] == revocations && (_pageWrite[page] || !write)) return new Span<byte>((byte*)_pageBytes[page] + inPage, length);
        return BytesChecked((int)page, inPage, length, write, revocations);
    }

    /// <summary>The domain asked again (something was revoked since, or the page is new here); the answer is remembered.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Span<byte> BytesChecked(int page, int inPage, int length, bool write, long revocations)
    {
        if (_dma.TryGetSpan(_regions[page], _offsets[page] + inPage, length, write, out Span<byte> span) != DmaError.None) return Span<byte>.Empty;
        // The page was located whole when the region was made; a block stays ours (pooled) even if freed later, and a free
        // moves the count first, so the pointer is only used while the check above still holds.
        _pageBytes[page] = (nint)((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) - inPage);
        _pageWrite[page] = write;
        _pageAt[page] = revocations;
        return span;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>, wrapping at <paramref name="ringSize"/>.</summary>
    public bool TryCopyRing(long offset, long ringSize, Span<byte> destination)
    {
        if (offset >= 0 && offset % ManaRegisters.PageSize + destination.Length <= ManaRegisters.PageSize && offset + destination.Length <= ringSize
            && destination.Length > 0)
        {
            // One piece (a WQE inside a page, not wrapping): the usual case, one lookup.
            Span<byte> one = Bytes(offset, destination.Length, write: false);
            if (one.IsEmpty) return false;
            one.CopyTo(destination);
            return true;
        }
        for (int done = 0; done < destination.Length;)
        {
            long at = (offset + done) % ringSize;
            int chunk = (int)Math.Min(destination.Length - done, ManaRegisters.PageSize - at % ManaRegisters.PageSize);
            chunk = (int)Math.Min(chunk, ringSize - at);
            Span<byte> src = Bytes(at, chunk, write: false);
            if (src.IsEmpty) return false;
            src.CopyTo(destination[done..]);
            done += chunk;
        }
        return true;
    }
}

/// <summary>One queue of the emulated VF: an EQ, a CQ, an SQ or an RQ on a DMA region.</summary>
/// <remarks>
/// Work queues keep the driver's producer offset (from the doorbell, a running byte count) and the device's consumer
/// offset; CQs and EQs are the producer side of an <see cref="OwnerBitRing{TMemory}"/> (gdma.md §6), the same ring the
/// driver consumes them with.
/// </remarks>
public sealed class GdmaQueue
{
    internal GdmaQueue(GdmaQueueType type, uint id, GdmaDmaRegion region, int size, int doorbellPage)
    {
        Type = type;
        Id = id;
        Region = region;
        Size = size;
        DoorbellPage = doorbellPage;
        if (type is GdmaQueueType.Cq or GdmaQueueType.Eq)
        {
            int entrySize = type == GdmaQueueType.Eq ? ManaRegisters.EqeSize : ManaRegisters.CqeSize; // the info word (owner bits) ends the entry
            Ring = new OwnerBitRing<GdmaRingMemory>(new GdmaRingMemory(region), entrySize, size / entrySize, entrySize - 4, ManaRegisters.OwnerBitsShift,
                BitOperations.PopCount((uint)ManaRegisters.OwnerBitsMask));
        }
    }

    public GdmaQueueType Type { get; }

    public uint Id { get; }

    public GdmaDmaRegion Region { get; }

    /// <summary>Bytes of queue memory.</summary>
    public int Size { get; }

    public int DoorbellPage { get; }

    /// <summary>CQ of a work queue; parent EQ of a CQ.</summary>
    public GdmaQueue? Parent { get; internal set; }

    /// <summary>EQ: the MSI-X vector it raises.</summary>
    public int MsixIndex { get; internal set; }

    /// <summary>CQ/EQ: armed by the last doorbell; cleared when an event or interrupt is raised.</summary>
    public bool Armed { get; internal set; }

    /// <summary>CQ/EQ: entries written so far.</summary>
    public long Produced => Ring?.Produced ?? 0;

    /// <summary>CQ/EQ: the device's (producer) side of the queue's owner-bit ring; null for work queues.</summary>
    internal OwnerBitRing<GdmaRingMemory>? Ring { get; }

    /// <summary>SQ/RQ: the driver's producer offset in bytes (32-bit running count from the doorbell).</summary>
    public uint Tail { get; internal set; }

    /// <summary>SQ/RQ: the device's consumer offset in bytes (same running count).</summary>
    public uint Head { get; internal set; }

    /// <summary>The wq object handle a MANA work queue was created under (0 for EQs and the HWC).</summary>
    public ulong ObjectHandle { get; internal set; }

    public bool Failed { get; internal set; }

    public override string ToString() => $"{Type} {Id} ({Size} bytes, doorbell page {DoorbellPage})";
}
