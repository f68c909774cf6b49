using System.Runtime.CompilerServices;

namespace NicScript.Driver.Memory;

/// <summary>A device's memory of the DMA region its last buffer was found in: the next buffer in the same region (a driver's
/// frame pool, slot after slot) is reached by pointer after one compare, as long as nothing anywhere was revoked since.</summary>
/// <remarks>
/// Design: as <c>SplitVirtqueue</c>'s hit region, keyed on the machine's revocation count (<see cref="DmaMemory.Revocations"/>,
/// read before the check it keys): a count that moved, an address outside the region, or a write to a region found for
/// reading goes through <see cref="IommuDomain.TryLocate"/> again, where a fault is counted and reported. One per device
/// direction (a TX window and an RX window do not evict each other); used under the device's lock.
/// </remarks>
internal sealed unsafe class DmaWindow(IommuDomain domain)
{
    private ulong _iova;
    private ulong _length; // 0 until the first find: nothing hits
    private byte* _bytes;
    private long _at = -1;
    private bool _write;

    /// <summary>As <see cref="IommuDomain.TryResolve"/>: the bytes of [<paramref name="iova"/>, +<paramref name="length"/>)
    /// inside one region the device may read (or write), or a counted DMA fault that touches nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DmaError TryResolve(ulong iova, int length, bool write, out Span<byte> span)
    {
        long revocations = domain.Revocations;
        ulong off = iova - _iova;
        if (revocations == _at && off < _length && (ulong)(uint)length <= _length - off && length >= 0 && (_write || !write))
        {
            span = new Span<byte>(_bytes + off, length);
            return DmaError.None;
        }
        return Find(iova, length, write, revocations, out span);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private DmaError Find(ulong iova, int length, bool write, long revocations, out Span<byte> span)
    {
        span = default;
        DmaError e = domain.TryLocate(iova, length, write, out DmaRegion region, out int offset);
        if (e != DmaError.None) return e;
        byte* block = region.Pointer; // null once freed and detached; a non-null block stays ours (pooled) even if freed since
        if (block is null) return domain.Fault(iova, length, write, DmaError.Freed);
        _iova = region.Iova;
        _length = (ulong)region.Length;
        _bytes = block;
        _write = write;
        _at = revocations;
        span = new Span<byte>(block + offset, length);
        return DmaError.None;
    }
}
