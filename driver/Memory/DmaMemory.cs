using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NicScript.Driver.Memory;

/// <summary>The machine's DMA memory: regions on unmanaged, page-aligned memory at IOVAs, and the device's view of them.</summary>
/// <remarks>
/// Design: allocation, free and ownership changes take <c>_sync</c>; the device side (<see cref="TryResolve"/>, reached only
/// through a function's <see cref="IommuDomain"/>, which adds the ownership check) reads an
/// immutable array of live regions sorted by IOVA, published with a volatile write, and binary-searches it, so
/// lookups never lock and never allocate. Freed native blocks go to a pool by page count and are reused; they are
/// given back to the OS only when the memory is disposed, so a stale span can never reach freed OS memory.
/// </remarks>
public sealed unsafe class DmaMemory : IDisposable
{
    /// <summary>The largest single region: 1 GiB.</summary>
    public const int MaxRegionBytes = 1 << 30;

    private readonly object _sync = new();
    private readonly IovaAllocator _iova;
    private readonly Dictionary<int, Stack<nint>> _pool = new();
    private readonly List<nint> _allBlocks = new();
    private DmaRegion[] _live = [];
    private DmaRegion? _lastHit;
    private int _nextRegionId;
    private int _nextOwnerId;
    private bool _disposed;
    private long _revocations;

    public DmaMemory(ulong iovaBase = 0x1_0000_0000, ulong iovaSize = 1UL << 36)
    {
        _iova = new IovaAllocator(iovaBase, iovaSize);
    }

    /// <summary>Live regions, sorted by IOVA.</summary>
    public IReadOnlyList<DmaRegion> Regions => Volatile.Read(ref _live);

    /// <summary>Creates an owner that may hold at most <paramref name="budgetBytes"/> at once; DMA faults of devices its
    /// driver programs go to <paramref name="faultSink"/>.</summary>
    public DmaOwner CreateOwner(string name, long budgetBytes, IDmaFaultSink? faultSink = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        return new DmaOwner(this, Interlocked.Increment(ref _nextOwnerId), name, budgetBytes, faultSink);
    }

    /// <summary>True when <paramref name="owner"/> was made by this memory.</summary>
    public bool Owns(DmaOwner owner) => ReferenceEquals(owner.Memory, this);

    /// <summary>Allocates a zeroed region of <paramref name="length"/> bytes owned by <paramref name="owner"/>.</summary>
    public DmaError TryAllocate(DmaOwner owner, int length, out DmaRegion region)
    {
        region = null!;
        if (length <= 0 || length > MaxRegionBytes) return DmaError.BadSize;
        long charge = (long)IovaAllocator.RoundUp((ulong)length);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!owner.TryCharge(charge)) return DmaError.BudgetExceeded;
            if (!_iova.TryAllocate((ulong)length, out ulong iova))
            {
                owner.Release(charge);
                return DmaError.IovaExhausted;
            }
            byte* p = RentBlockLocked((int)(charge / (long)IovaAllocator.PageSize));
            region = new DmaRegion(this, ++_nextRegionId, iova, length, p, owner);
            DmaRegion[] live = _live;
            int at = ~Array.BinarySearch(live, region, RegionByIova.Instance);
            Volatile.Write(ref _live, [.. live.AsSpan(0, at), region, .. live.AsSpan(at)]);
            return DmaError.None;
        }
    }

    /// <summary>Places <paramref name="length"/> bytes at <paramref name="pointer"/>, memory the machine does not own (a guest's RAM
    /// mapped from a vfio-user fd), at the fixed <paramref name="iova"/>, owned by <paramref name="owner"/>.</summary>
    /// <remarks>Nothing is allocated: the IOVA is the guest's and the bytes stay the caller's. A range that overlaps a live region
    /// is refused (<see cref="DmaError.CrossesRegion"/>). <see cref="RemoveExternal"/> takes it away again without scrubbing it.</remarks>
    internal DmaError TryAddExternal(DmaOwner owner, ulong iova, int length, byte* pointer, out DmaRegion region)
    {
        region = null!;
        if (length <= 0 || length > MaxRegionBytes || iova + (ulong)length < iova) return DmaError.BadSize;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            DmaRegion[] live = _live;
            var probe = new DmaRegion(this, 0, iova, length, pointer, owner, external: true);
            int at = Array.BinarySearch(live, probe, RegionByIova.Instance);
            if (at >= 0) return DmaError.CrossesRegion;
            at = ~at;
            if (at > 0 && live[at - 1].Iova + (ulong)live[at - 1].Length > iova) return DmaError.CrossesRegion;
            if (at < live.Length && iova + (ulong)length > live[at].Iova) return DmaError.CrossesRegion;
            if (!owner.TryCharge((long)IovaAllocator.RoundUp((ulong)length))) return DmaError.BudgetExceeded;
            region = new DmaRegion(this, ++_nextRegionId, iova, length, pointer, owner, external: true);
            Volatile.Write(ref _live, [.. live.AsSpan(0, at), region, .. live.AsSpan(at)]);
            return DmaError.None;
        }
    }

    /// <summary>Takes a region placed by <see cref="TryAddExternal"/> out of the memory (devices lose it at once); its bytes are
    /// left as they are, for the caller to unmap.</summary>
    internal DmaError RemoveExternal(DmaRegion region) => region.External ? Retire(region, null, force: true) : DmaError.NotOwner;

    /// <summary>Frees a region its owner no longer needs: scrubbed, unmapped, its IOVA range returned.</summary>
    public DmaError Free(DmaOwner by, DmaRegion region) => Retire(region, by, force: false);

    /// <summary>Frees every region <paramref name="owner"/> holds (a V-Node stopped); loans to it end too.</summary>
    public int Reclaim(DmaOwner owner)
    {
        int n = 0;
        foreach (DmaRegion r in Volatile.Read(ref _live))
        {
            if (ReferenceEquals(r.Owner, owner)) { if (Retire(r, owner, force: true) == DmaError.None) n++; }
            else if (r.Owner is { } o) r.Revoke(o, owner);
        }
        return n;
    }

    /// <summary>Moves on every change that takes access away (a transfer, a revoked loan, a free, a detach from a domain),
    /// after the change is published. Code that checked an access at one value may reuse that answer while it has not moved.</summary>
    /// <remarks>Design: one counter for the machine, not a list of who cached what: a reader that saw it unchanged knows no
    /// access anywhere was taken away since its check, and one that sees it move checks again — nothing to forget.</remarks>
    internal long Revocations => Volatile.Read(ref _revocations);

    internal void Revoked() => Interlocked.Increment(ref _revocations);

    /// <summary>Bytes held by live regions (page-rounded).</summary>
    public long AllocatedBytes
    {
        get
        {
            long sum = 0;
            foreach (DmaRegion r in Volatile.Read(ref _live)) sum += (long)IovaAllocator.RoundUp((ulong)r.Length);
            return sum;
        }
    }

    /// <summary>The bytes at [<paramref name="iova"/>, +<paramref name="length"/>) inside one live region, whoever owns it.</summary>
    /// <remarks>A range that starts outside every region, or runs past its region's end, is refused and touches nothing.
    /// Internal: devices reach DMA memory only through their function's <see cref="IommuDomain"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal DmaError TryResolve(ulong iova, int length, out Span<byte> span)
    {
        span = default;
        if (length < 0) return DmaError.BadSize;
        DmaRegion? r = Find(iova);
        if (r is null) return DmaError.OutOfBounds;
        ulong offset = iova - r.Iova;
        if (offset + (ulong)length > (ulong)r.Length) return DmaError.CrossesRegion;
        byte* p = r.Pointer;
        if (p is null || r.IsFreed) return DmaError.Freed;
        span = new Span<byte>(p + offset, length);
        return DmaError.None;
    }

    /// <summary>As <see cref="TryResolve"/>, as a region and offset (what <see cref="IommuDomain"/> checks ownership of).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal DmaError TryLocate(ulong iova, int length, out DmaRegion region, out int offset)
    {
        offset = 0;
        region = null!;
        if (length < 0) return DmaError.BadSize;
        DmaRegion? r = Find(iova);
        if (r is null) return DmaError.OutOfBounds;
        ulong off = iova - r.Iova;
        if (off + (ulong)length > (ulong)r.Length) return DmaError.CrossesRegion;
        region = r;
        offset = (int)off;
        return DmaError.None;
    }

    /// <summary>Device read: copies bytes at <paramref name="iova"/> into <paramref name="destination"/>.</summary>
    internal DmaError TryRead(ulong iova, Span<byte> destination)
    {
        DmaError e = TryResolve(iova, destination.Length, out Span<byte> src);
        if (e == DmaError.None) src.CopyTo(destination);
        return e;
    }

    /// <summary>Device write: copies <paramref name="source"/> to <paramref name="iova"/>.</summary>
    internal DmaError TryWrite(ulong iova, ReadOnlySpan<byte> source)
    {
        DmaError e = TryResolve(iova, source.Length, out Span<byte> dst);
        if (e == DmaError.None) source.CopyTo(dst);
        return e;
    }

    /// <summary>The live region containing <paramref name="iova"/>, or null (no ownership check: internal, as the accessors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal DmaRegion? Find(ulong iova)
    {
        DmaRegion? last = _lastHit; // devices touch the same few regions over and over
        if (last is not null && iova - last.Iova < (ulong)last.Length && !last.IsFreed) return last;
        return FindSlow(iova);
    }

    private DmaRegion? FindSlow(ulong iova)
    {
        DmaRegion[] live = Volatile.Read(ref _live);
        int lo = 0, hi = live.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            DmaRegion r = live[mid];
            if (iova < r.Iova) hi = mid - 1;
            else if (iova - r.Iova >= (ulong)r.Length) lo = mid + 1;
            else return _lastHit = r;
        }
        return null;
    }

    private DmaError Retire(DmaRegion region, DmaOwner? by, bool force)
    {
        lock (_sync)
        {
            DmaError e = region.Retire(by, force);
            if (e != DmaError.None) return e;
            DmaRegion[] live = _live;
            int at = Array.IndexOf(live, region);
            if (at >= 0) Volatile.Write(ref _live, [.. live.AsSpan(0, at), .. live.AsSpan(at + 1)]);
            if (region.External)
            {
                region.Detach(); // not ours: no IOVA range to return, no block to pool
                return DmaError.None;
            }
            _iova.Free(region.Iova, (ulong)region.Length);
            int pages = (int)(IovaAllocator.RoundUp((ulong)region.Length) / IovaAllocator.PageSize);
            if (!_pool.TryGetValue(pages, out Stack<nint>? stack)) _pool[pages] = stack = new Stack<nint>();
            stack.Push((nint)region.Detach());
            return DmaError.None;
        }
    }

    private byte* RentBlockLocked(int pages)
    {
        if (_pool.TryGetValue(pages, out Stack<nint>? stack) && stack.Count > 0) return (byte*)stack.Pop(); // scrubbed on free
        nuint bytes = (nuint)pages * (nuint)IovaAllocator.PageSize;
        byte* p = (byte*)NativeMemory.AlignedAlloc(bytes, (nuint)IovaAllocator.PageSize);
        NativeMemory.Clear(p, bytes);
        _allBlocks.Add((nint)p);
        return p;
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (DmaRegion r in _live) r.Retire(null, force: true);
            Volatile.Write(ref _live, []);
            foreach (nint p in _allBlocks) NativeMemory.AlignedFree((void*)p);
            _allBlocks.Clear();
            _pool.Clear();
        }
    }

    private sealed class RegionByIova : IComparer<DmaRegion>
    {
        public static readonly RegionByIova Instance = new();
        public int Compare(DmaRegion? x, DmaRegion? y) => x!.Iova.CompareTo(y!.Iova);
    }
}
