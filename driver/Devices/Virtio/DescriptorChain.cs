using System.Runtime.CompilerServices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>One buffer the driver made available: its head index and its segments, checked against the function's IOMMU domain.</summary>
/// <remarks>Reused for every pop (made once with the queue), so popping allocates nothing. A segment is checked when popped
/// and again at every <see cref="Segment"/>, so a buffer transferred away, freed or no longer lent since the pop faults on
/// the next access instead of being read or written.</remarks>
public sealed class DescriptorChain
{
    private readonly ulong[] _addr;
    private readonly int[] _len;
    private readonly bool[] _writable;
    private readonly DmaRegion?[] _region;
    private readonly int[] _offset;
    private IommuDomain? _domain;
    private long _checkedAt; // the machine's revocation count before the pop checked the buffers

    public DescriptorChain(int maxSegments)
    {
        _addr = new ulong[maxSegments];
        _len = new int[maxSegments];
        _writable = new bool[maxSegments];
        _region = new DmaRegion?[maxSegments];
        _offset = new int[maxSegments];
    }

    public ushort Head { get; internal set; }

    public int Count { get; private set; }

    public int MaxSegments => _addr.Length;

    /// <summary>Bytes the device may read (segments before the first writable one).</summary>
    public int ReadableBytes { get; private set; }

    /// <summary>Bytes the device may write.</summary>
    public int WritableBytes { get; private set; }

    public ulong Address(int i) => _addr[i];

    public int Length(int i) => _len[i];

    public bool IsWritable(int i) => _writable[i];

    /// <summary>True when a segment was outside the domain at the pop (its bytes are empty; the fault was counted then).</summary>
    public bool Faulted { get; private set; }

    /// <summary>Segment i's bytes if the function's domain still reaches them (read for a device-readable segment, write for
    /// a device-writable one); empty after a DMA fault, which the domain counts and reports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe Span<byte> Segment(int i)
    {
        // Nothing was revoked anywhere since the pop checked it: the answer stands. (A null pointer means freed: the slow
        // path says so; a non-null one stays valid memory, blocks being pooled.)
        DmaRegion? region = _region[i];
        byte* p = region is null ? null : region.Pointer;
        if (p is not null && _domain!.Revocations == _checkedAt) return new Span<byte>(p + _offset[i], _len[i]);
        return SegmentChecked(i);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Span<byte> SegmentChecked(int i)
    {
        if (_region[i] is not { } region || _domain is null) return Span<byte>.Empty; // faulted at the pop: counted then
        return _domain.TryGetSpan(region, _offset[i], _len[i], _writable[i], out Span<byte> span) == DmaError.None ? span : Span<byte>.Empty;
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

    /// <summary>Adds a segment the domain refused at the pop: kept so the device can still find the request's status byte.</summary>
    internal bool TryAddFaulted(ulong addr, int len, bool writable)
    {
        if (!TryAdd(addr, len, writable, null, 0)) return false;
        Faulted = true;
        return true;
    }

    internal bool TryAdd(ulong addr, int len, bool writable, DmaRegion? region, int offset)
    {
        if (Count == _addr.Length) return false;
        _addr[Count] = addr;
        _len[Count] = len;
        _writable[Count] = writable;
        _region[Count] = region;
        _offset[Count] = offset;
        Count++;
        if (writable) WritableBytes += len;
        else ReadableBytes += len;
        return true;
    }
}
