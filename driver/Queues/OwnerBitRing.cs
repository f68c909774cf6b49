using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NicScript.Driver.Queues;

/// <summary>A completion/event ring whose entries carry owner (lap) bits, as GDMA CQs and EQs do: producer and consumer sides.</summary>
/// <remarks>
/// Design (gdma_main.c, mana_gd_read_cqe): a ring of n entries; the producer's k-th entry goes to slot k mod n with
/// owner bits (k / n + 1) mod 2^w, written last with release semantics (the rest of the entry is visible first). The
/// consumer's head starts at n; the entry for head h is new when its owner bits equal (h / n) mod 2^w, empty when they
/// equal (h / n − 1) mod 2^w, and anything else means the producer lapped the consumer: an overflow the consumer must
/// fail closed on. The consumer reads the owner word with acquire semantics before the rest of the entry.
/// Both sides keep their own index; neither trusts the other's. Not thread-safe per side.
/// The same ring serves the emulated device (producer, over queue pages reached through its IOMMU domain) and the
/// driver (consumer, over its own DMA region): <typeparamref name="TMemory"/> is a struct, so each is compiled apart
/// and reaching an entry costs no interface dispatch.
/// </remarks>
internal sealed class OwnerBitRing<TMemory> where TMemory : struct, IRingMemory
{
    private readonly TMemory _memory;
    private readonly uint _mask;
    private readonly int _lapShift; // log2 of Count: an entry's lap is its index shifted, not divided
    private long _produced;
    private long _head;

    /// <param name="ownerWordOffset">Byte offset, within an entry, of the little-endian u32 holding the owner bits.</param>
    /// <param name="ownerShift">Bit position of the owner bits in that word (29 for gdma_cqe / gdma_eqe info).</param>
    /// <param name="ownerWidth">Width of the owner bits (3 for GDMA).</param>
    public OwnerBitRing(TMemory memory, int entrySize, int count, int ownerWordOffset, int ownerShift, int ownerWidth)
    {
        if (count <= 0 || !BitOperations.IsPow2(count)) throw new ArgumentException("count must be a power of two", nameof(count));
        if (entrySize < 4 || ownerWordOffset < 0 || ownerWordOffset + 4 > entrySize || ownerWordOffset % 4 != 0) throw new ArgumentException("bad entry layout");
        if (ownerWidth is < 1 or > 8 || ownerShift < 0 || ownerShift + ownerWidth > 32) throw new ArgumentException("bad owner bits");
        if ((long)entrySize * count > memory.Length) throw new ArgumentException("the ring does not fit its memory");
        _memory = memory;
        EntrySize = entrySize;
        Count = count;
        OwnerWordOffset = ownerWordOffset;
        OwnerShift = ownerShift;
        _mask = (1u << ownerWidth) - 1;
        _lapShift = BitOperations.Log2((uint)count);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Entry(long index, bool write) => _memory.Slice((index & (Count - 1)) * EntrySize, EntrySize, write);

    // Producer (device) --------------------------------------------------------------------------------------------

    /// <summary>The next entry to fill (owner bits are set by <see cref="Publish(Span{byte}, uint)"/>); empty if the memory is gone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Next() => Entry(_produced, write: true);

    /// <summary>Writes <paramref name="ownerWord"/> with this lap's owner bits into the owner word of <paramref name="entry"/>
    /// (the span <see cref="Next"/> returned) with release semantics, so the rest of the entry is visible first; moves on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish(Span<byte> entry, uint ownerWord)
    {
        uint owner = (uint)((_produced >> _lapShift) + 1) & _mask;
        uint value = (ownerWord & ~(_mask << OwnerShift)) | owner << OwnerShift;
        Volatile.Write(ref MemoryMarshal.AsRef<uint>(entry[OwnerWordOffset..]), value);
        _produced++;
    }

    /// <summary>Stamps the owner bits into the owner word already written in <paramref name="entry"/>; see <see cref="Publish(Span{byte}, uint)"/>.</summary>
    public void Publish(Span<byte> entry) => Publish(entry, MemoryMarshal.Read<uint>(entry[OwnerWordOffset..]));

    // Consumer (driver) ----------------------------------------------------------------------------------------------

    /// <summary>Reads the entry at the head if it is new; a lapped ring is <see cref="OwnerBitResult.Overflow"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public OwnerBitResult TryRead(out ReadOnlySpan<byte> entry)
    {
        entry = default;
        Span<byte> e = Entry(_head, write: false);
        if (e.IsEmpty) return OwnerBitResult.Overflow;
        uint owner = (Volatile.Read(ref MemoryMarshal.AsRef<uint>(e[OwnerWordOffset..])) >> OwnerShift) & _mask; // acquire: owner bits first
        uint expected = (uint)(_head >> _lapShift) & _mask, stale = (expected - 1) & _mask;
        if (owner == stale) return OwnerBitResult.Empty;
        if (owner != expected) return OwnerBitResult.Overflow;
        entry = e;
        return OwnerBitResult.New;
    }

    /// <summary>Moves the head past the entry just read.</summary>
    public void Advance() => _head++;
}

internal enum OwnerBitResult
{
    Empty,
    New,
    /// <summary>The owner bits are neither this lap's nor the last one's: the producer overran the consumer.</summary>
    Overflow,
}
