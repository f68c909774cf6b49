using NicScript.Driver.Memory;

namespace NicScript.Driver.Queues;

/// <summary>Ring memory in a DMA region its user owns (a driver's CQs and EQs): reached by pointer, empty once freed.</summary>
internal readonly unsafe struct DmaRegionMemory : IRingMemory
{
    private readonly DmaRegion _region;
    private readonly int _offset;

    public DmaRegionMemory(DmaRegion region, int offset = 0)
    {
        if (offset < 0 || offset > region.Length) throw new ArgumentOutOfRangeException(nameof(offset));
        _region = region;
        _offset = offset;
    }

    public long Length => _region.Length - _offset;

    public Span<byte> Slice(long offset, int length, bool write) =>
        _region.IsFreed ? Span<byte>.Empty : new Span<byte>(_region.Pointer + _offset + offset, length);
}
