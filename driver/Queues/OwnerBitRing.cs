using NicScript.Driver.Devices.Virtio;
using System.Runtime.CompilerServices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Queues;

/// <summary>A completion/event ring whose entries carry owner (lap) bits, as GDMA CQs and EQs do: producer and consumer sides.</summary>
/// <remarks>
/// Design (gdma_main.c, mana_gd_read_cqe): a ring of n entries; the producer's k-th entry goes to slot k mod n with
/// owner bits (k / n + 1) mod 2^w, written last with release semantics (the rest of the entry is visible first). The
/// consumer's head starts at n; the entry for head h is new when its owner bits equal (h / n) mod 2^w, empty when they
/// equal (h / n − 1) mod 2^w, and anything else means the producer lapped the consumer: an overflow the consumer must
/// fail closed on. The consumer reads the owner word with acquire semantics before the rest of the entry.
/// Both sides keep their own index; neither trusts the other's. Not thread-safe per side.
/// </remarks>
public sealed unsafe class OwnerBitRing
{
    private readonly DmaRegion _region;
    private readonly int _offset;
    private readonly uint _mask;
    private long _produced;
    private long _head;

    /// <param name="ownerWordOffset">Byte offset, within an entry, of the little-endian u32 holding the owner bits.</param>
    /// <param name="ownerShift">Bit position of the owner bits in that word (29 for gdma_cqe / gdma_eqe info).</param>
    /// <param name="ownerWidth">Width of the owner bits (3 for GDMA).</param>
    public OwnerBitRing(DmaRegion region, int offset, int entrySize, int count, int ownerWordOffset, int ownerShift, int ownerWidth)
    {
        if (!VirtqLayout.IsValidSize(count)) throw new ArgumentException("count must be a power of two", nameof(count));
        if (entrySize < 4 || ownerWordOffset < 0 || ownerWordOffset + 4 > entrySize || ownerWordOffset % 4 != 0) throw new ArgumentException("bad entry layout");
        if (ownerWidth is < 1 or > 8 || ownerShift < 0 || ownerShift + ownerWidth > 32) throw new ArgumentException("bad owner bits");
        if (offset < 0 || (long)offset + (long)entrySize * count > region.Length) throw new ArgumentException("the ring does not fit its region");
        _region = region;
        _offset = offset;
        EntrySize = entrySize;
        Count = count;
        OwnerWordOffset = ownerWordOffset;
        OwnerShift = ownerShift;
        _mask = (1u << ownerWidth) - 1;
        _head = count;
    }

    public int EntrySize { get; }

    public int Count { get; }

    public int OwnerWordOffset { get; }

    public int OwnerShift { get; }

    /// <summary>Entries the producer has written.</summary>
    public long Produced => _produced;

    /// <summary>The consumer's head (starts at <see cref="Count"/>).</summary>
    public long Head => _head;

    private byte* Entry(long index) => _region.Pointer + _offset + (index & (Count - 1)) * EntrySize;

    // Producer (device) --------------------------------------------------------------------------------------------

    /// <summary>The next entry to fill (owner bits are set by <see cref="Publish"/>); empty if the region was freed.</summary>
    public Span<byte> Next() => _region.IsFreed ? Span<byte>.Empty : new Span<byte>(Entry(_produced), EntrySize);

    /// <summary>Stamps the owner bits of the entry <see cref="Next"/> returned (release: its bytes are visible first).</summary>
    public void Publish()
    {
        if (_region.IsFreed) return;
        uint* word = (uint*)(Entry(_produced) + OwnerWordOffset);
        uint owner = (uint)(_produced / Count + 1) & _mask;
        uint value = (*word & ~(_mask << OwnerShift)) | owner << OwnerShift;
        Volatile.Write(ref *word, value);
        _produced++;
    }

    // Consumer (driver) ----------------------------------------------------------------------------------------------

    /// <summary>Reads the entry at the head if it is new; a lapped ring is <see cref="OwnerBitResult.Overflow"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public OwnerBitResult TryRead(out ReadOnlySpan<byte> entry)
    {
        entry = default;
        if (_region.IsFreed) return OwnerBitResult.Overflow;
        byte* e = Entry(_head);
        uint owner = (Volatile.Read(ref *(uint*)(e + OwnerWordOffset)) >> OwnerShift) & _mask; // acquire: owner bits first
        uint expected = (uint)(_head / Count) & _mask, stale = (expected - 1) & _mask;
        if (owner == stale) return OwnerBitResult.Empty;
        if (owner != expected) return OwnerBitResult.Overflow;
        entry = new ReadOnlySpan<byte>(e, EntrySize);
        return OwnerBitResult.New;
    }

    /// <summary>Moves the head past the entry just read.</summary>
    public void Advance() => _head++;
}

public enum OwnerBitResult
{
    Empty,
    New,
    /// <summary>The owner bits are neither this lap's nor the last one's: the producer overran the consumer.</summary>
    Overflow,
}
