using NicScript.Driver.Memory;

namespace NicScript.Driver.Queues;

/// <summary>One buffer the driver made available: its head index and its segments, checked against DMA memory.</summary>
/// <remarks>Reused for every pop (made once with the queue), so popping allocates nothing.</remarks>
public sealed class DescriptorChain
{
    private readonly ulong[] _addr;
    private readonly int[] _len;
    private readonly bool[] _writable;
    private readonly DmaRegion[] _region;
    private readonly int[] _offset;

    public DescriptorChain(int maxSegments)
    {
        _addr = new ulong[maxSegments];
        _len = new int[maxSegments];
        _writable = new bool[maxSegments];
        _region = new DmaRegion[maxSegments];
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

    /// <summary>Segment i's bytes, resolved when the chain was popped (empty if its region was freed since).</summary>
    public Span<byte> Segment(int i) => _region[i].DeviceSpan.Slice(_offset[i], _len[i]);

    internal void Reset(ushort head)
    {
        Head = head;
        Count = 0;
        ReadableBytes = 0;
        WritableBytes = 0;
    }

    internal bool TryAdd(ulong addr, int len, bool writable, DmaRegion region, int offset)
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
