using System.Runtime.CompilerServices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>One buffer the driver made available: its head index and its segments, checked against the function's IOMMU domain.</summary>
/// <remarks>Reused for every pop (made once with the queue), so popping allocates nothing. A segment is checked when popped
/// and again at every <see cref="Segment"/>, so a buffer transferred away, freed or no longer lent since the pop faults on
/// the next access instead of being read or written. Each segment keeps the address its bytes had at the pop: while the
/// machine's revocation count has not moved since then, that answer stands and <see cref="Segment"/> is a compare and a
/// span (blocks are pooled, so the address stays memory the machine owns).</remarks>
public sealed unsafe class DescriptorChain
{
    private struct Seg
    {
        public ulong Addr;
        public byte* Bytes; // region's block + offset at the pop; null when the pop refused the segment
        public DmaRegion? Region;
        public int Len;
        public int Offset;
        public bool Writable;
    }

    private readonly Seg[] _segs;
    private IommuDomain? _domain;
    private long _checkedAt; // the machine's revocation count before the pop checked the buffers

    public DescriptorChain(int maxSegments) => _segs = new Seg[maxSegments];

    public ushort Head { get; internal set; }

    public int Count { get; private set; }

    public int MaxSegments => _segs.Length;

    /// <summary>Bytes the device may read (segments before the first writable one).</summary>
    public int ReadableBytes { get; private set; }

    /// <summary>Bytes the device may write.</summary>
    public int WritableBytes { get; private set; }

    public ulong Address(int i) => _segs[i].Addr;

    public int Length(int i) => _segs[i].Len;

    public bool IsWritable(int i) => _segs[i].Writable;

    /// <summary>True when a segment was outside the domain at the pop (its bytes are empty; the fault was counted then).</summary>
    public bool Faulted { get; private set; }

    /// <summary>Segment i's bytes if the function's domain still reaches them (read for a device-readable segment, write for
    /// a device-writable one); empty after a DMA fault, which the domain counts and reports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Segment(int i)
    {
        ref Seg s = ref _segs[i];
        // Nothing was revoked anywhere since the pop checked it: the answer stands.
        if (s.Bytes is not null && _domain!.Revocations == _checkedAt) return new Span<byte>(s.Bytes, s.Len);
        return SegmentChecked(i);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Span<byte> SegmentChecked(int i)
    {
        ref Seg s = ref _segs[i];
        if (s.Region is not { } region || _domain is null) return Span<byte>.Empty; // faulted at the pop: counted then
        return _domain.TryGetSpan(region, s.Offset, s.Len, s.Writable, out Span<byte> span) == DmaError.None ? span : Span<byte>.Empty;
    }

    internal void Reset(ushort head, IommuDomain domain, long checkedAt)
    {
        _checkedAt = checkedAt;
        Head = head;
        Count = 0;
        ReadableBytes = 0;
        WritableBytes = 0;
        Faulted = false;
        _domain = domain;
    }

    /// <summary>The whole chain is one segment the pop found inside the domain (the common case: a frame buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetSingle(ushort head, IommuDomain domain, long checkedAt, ulong addr, int len, bool writable, DmaRegion region, int offset, byte* bytes)
    {
        _checkedAt = checkedAt;
        Head = head;
        Count = 1;
        ReadableBytes = writable ? 0 : len;
        WritableBytes = writable ? len : 0;
        Faulted = false;
        if (!ReferenceEquals(_domain, domain)) _domain = domain;
        ref Seg s = ref _segs[0];
        s.Addr = addr;
        s.Bytes = bytes;
        if (!ReferenceEquals(s.Region, region)) s.Region = region; // the same region pop after pop: no write barrier
        s.Len = len;
        s.Offset = offset;
        s.Writable = writable;
    }

    /// <summary>Adds a segment the domain refused at the pop: kept so the device can still find the request's status byte.</summary>
    internal bool TryAddFaulted(ulong addr, int len, bool writable)
    {
        if (!TryAdd(addr, len, writable, null, 0, null)) return false;
        Faulted = true;
        return true;
    }

    internal bool TryAdd(ulong addr, int len, bool writable, DmaRegion? region, int offset, byte* bytes)
    {
        if (Count == _segs.Length) return false;
        ref Seg s = ref _segs[Count];
        s.Addr = addr;
        s.Bytes = bytes;
        s.Region = region;
        s.Len = len;
        s.Offset = offset;
        s.Writable = writable;
        Count++;
        if (writable) WritableBytes += len;
        else ReadableBytes += len;
        return true;
    }
}
