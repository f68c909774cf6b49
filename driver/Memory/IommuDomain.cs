using NicScript.Driver.Time;
using System.Runtime.CompilerServices;

namespace NicScript.Driver.Memory;

/// <summary>The DMA one PCI function's device may do, as an IOMMU would allow it: the regions its attached drivers' owners
/// own (read and write), borrow (read only) or were given, and nothing else.</summary>
/// <remarks>
/// Design: the domain holds no copy of any mapping. It holds the <see cref="DmaOwner"/>s attached to it (the V-Node
/// driving the function, or the native driver that allocated the function's rings), and every access asks the region
/// who owns or borrows it <em>now</em>: a reference compare against the attached owners, then a scan of the region's
/// loans. So a loan revoked, a region transferred away, a region freed or a V-Node reclaimed leaves the domain the moment
/// it happens, with no bookkeeping to forget. The data path reads two volatile arrays and never locks or allocates;
/// attach and detach take <c>_sync</c> and publish a new owner array. A domain with no driver attached reaches nothing
/// (fail closed). Every refused access is a DMA fault: counted in <see cref="Faults"/> and reported, rate-limited, to
/// the attached owners' sinks and the device's — the caller then completes its descriptor with the device's error.
/// Code that touches the same regions over and over (a queue's rings, a popped chain's buffers) may check once and reuse
/// the answer while the machine's revocation count (<see cref="DmaMemory.Revocations"/>) has not moved; every change that
/// takes access away moves it after it is published.
/// A span handed out stays valid memory (blocks are pooled, never returned to the OS while the memory lives), so an
/// access racing a revocation at worst reads or writes scrubbed memory the machine still owns, as an IOTLB would.
/// </remarks>
public sealed class IommuDomain : IDmaSpace
{
    /// <summary>At most this many faults per second are reported per function; the rest are counted and summed into the next.</summary>
    public const int ReportsPerSecond = 16;

    private readonly object _sync = new();
    private readonly DmaMemory _memory;
    private readonly IDmaFaultSink? _deviceSink;
    private readonly IClock _clock;
    private readonly List<(DmaOwner Owner, int Count)> _attachments = new();
    private DmaOwner[] _owners = [];
    private long _faults;
    private long _window, _suppressed;
    private int _reportedInWindow;

    /// <param name="function">The function's address, as faults name it.</param>
    /// <param name="deviceSink">Where the device's own faults go besides the owners' (the machine's device events), or null.</param>
    /// <param name="clock">What the one-second report windows are timed on; the monotonic clock when null.</param>
    public IommuDomain(DmaMemory memory, string function, IDmaFaultSink? deviceSink = null, IClock? clock = null)
    {
        _memory = memory;
        Function = function;
        _deviceSink = deviceSink;
        _clock = clock ?? MonotonicClock.Instance;
    }

    public string Function { get; }

    /// <summary>Whether the domain is a view of <paramref name="memory"/>.</summary>
    internal bool Over(DmaMemory memory) => ReferenceEquals(_memory, memory);

    /// <summary>DMA faults this function's device has made.</summary>
    public long Faults => Volatile.Read(ref _faults);

    /// <summary>The owners whose memory the device reaches now.</summary>
    public IReadOnlyList<DmaOwner> Attached => Volatile.Read(ref _owners);

    /// <summary>Lets the device reach what <paramref name="owner"/> owns, borrows or receives, until the returned attachment is
    /// disposed. Attaching the same owner again is counted: it stays until every attachment is disposed.</summary>
    public DmaAttachment Attach(DmaOwner owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!_memory.Owns(owner)) throw new ArgumentException($"{owner} holds memory of another machine", nameof(owner));
        lock (_sync)
        {
            int at = _attachments.FindIndex(a => ReferenceEquals(a.Owner, owner));
            if (at >= 0) _attachments[at] = (owner, _attachments[at].Count + 1);
            else
            {
                _attachments.Add((owner, 1));
                Volatile.Write(ref _owners, [.. Volatile.Read(ref _owners), owner]);
            }
        }
        return new DmaAttachment(this, owner);
    }

    internal void Detach(DmaOwner owner) => Remove(owner, all: false);

    /// <summary>Detaches <paramref name="owner"/> however many attachments it holds (its V-Node stopped); their later
    /// disposal does nothing.</summary>
    public void Evict(DmaOwner owner) => Remove(owner, all: true);

    private void Remove(DmaOwner owner, bool all)
    {
        lock (_sync)
        {
            int at = _attachments.FindIndex(a => ReferenceEquals(a.Owner, owner));
            if (at < 0) return;
            if (!all && _attachments[at].Count > 1)
            {
                _attachments[at] = (owner, _attachments[at].Count - 1);
                return;
            }
            _attachments.RemoveAt(at);
            Volatile.Write(ref _owners, Array.FindAll(Volatile.Read(ref _owners), o => !ReferenceEquals(o, owner)));
            _memory.Revoked();
        }
    }

    /// <summary>The machine's revocation count (<see cref="DmaMemory.Revocations"/>): an access checked while it had one value
    /// is still allowed while it keeps it.</summary>
    internal long Revocations => _memory.Revocations;

    /// <summary>Whether the device may read (or write) <paramref name="region"/> now; reports nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DmaError Check(DmaRegion region, bool write)
    {
        DmaOwner? owner = region.Owner;
        if (owner is null) return DmaError.Freed;
        DmaOwner[] attached = Volatile.Read(ref _owners);
        for (int i = 0; i < attached.Length; i++)
            if (ReferenceEquals(attached[i], owner)) return DmaError.None;
        return CheckLoans(region, write, attached);
    }

    private static DmaError CheckLoans(DmaRegion region, bool write, DmaOwner[] attached)
    {
        foreach (DmaLoan loan in region.LoanArray)
            for (int i = 0; i < attached.Length; i++)
                if (ReferenceEquals(loan.Borrower, attached[i])) return write ? DmaError.IommuFault : DmaError.None;
        return DmaError.IommuFault;
    }

    /// <summary>The device's access to [<paramref name="iova"/>, +<paramref name="length"/>): the bytes inside one region of
    /// the domain, or a DMA fault (counted, reported) that touches nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe DmaError TryResolve(ulong iova, int length, bool write, out Span<byte> span)
    {
        span = default;
        DmaError e = TryLocate(iova, length, write, out DmaRegion region, out int offset);
        if (e != DmaError.None) return e;
        byte* p = region.Pointer; // null once freed and detached; a non-null block stays ours (pooled) even if freed since
        if (p is null) return Fault(iova, length, write, DmaError.Freed);
        span = new Span<byte>(p + offset, length);
        return DmaError.None;
    }

    /// <summary>As <see cref="TryResolve"/>, as a region and offset for code that resolves once and reaches the bytes later
    /// through <see cref="TryGetSpan"/> (descriptor chains, queue pages), where the domain is asked again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DmaError TryLocate(ulong iova, int length, bool write, out DmaRegion region, out int offset)
    {
        DmaRegion? r = length < 0 ? null : _memory.Find(iova);
        if (r is not null)
        {
            ulong off = iova - r.Iova;
            if (off + (ulong)length <= (ulong)r.Length && Check(r, write) == DmaError.None)
            {
                region = r;
                offset = (int)off;
                return DmaError.None;
            }
        }
        region = null!;
        offset = 0;
        return LocateFault(iova, length, write);
    }

    /// <summary>Why <see cref="TryLocate"/> refused (out of line: only faults come here), counted and reported.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private DmaError LocateFault(ulong iova, int length, bool write)
    {
        DmaError e = _memory.TryLocate(iova, length, out DmaRegion region, out _);
        if (e == DmaError.None) e = Check(region, write);
        return Fault(iova, length, write, e == DmaError.None ? DmaError.IommuFault : e); // a race made it fine since: still refused
    }

    /// <summary>The bytes at [<paramref name="offset"/>, +<paramref name="length"/>) of a region located earlier, if the domain
    /// still reaches it; a DMA fault (counted, reported) otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe DmaError TryGetSpan(DmaRegion region, int offset, int length, bool write, out Span<byte> span)
    {
        span = default;
        byte* p = region.Pointer;
        DmaError e = p is null ? DmaError.Freed : Check(region, write);
        if (e == DmaError.None && (offset < 0 || length < 0 || (long)offset + length > region.Length)) e = DmaError.OutOfBounds;
        if (e != DmaError.None) return Fault(region.Iova + (ulong)Math.Max(offset, 0), length, write, e);
        span = new Span<byte>(p + offset, length);
        return DmaError.None;
    }

    /// <summary>Device read: copies the bytes at <paramref name="iova"/> into <paramref name="destination"/>.</summary>
    public DmaError TryRead(ulong iova, Span<byte> destination)
    {
        DmaError e = TryResolve(iova, destination.Length, write: false, out Span<byte> src);
        if (e == DmaError.None) src.CopyTo(destination);
        return e;
    }

    /// <summary>Device write: copies <paramref name="source"/> to <paramref name="iova"/>.</summary>
    public DmaError TryWrite(ulong iova, ReadOnlySpan<byte> source)
    {
        DmaError e = TryResolve(iova, source.Length, write: true, out Span<byte> dst);
        if (e == DmaError.None) source.CopyTo(dst);
        return e;
    }

    /// <summary>Counts a DMA fault and reports it (rate-limited); returns <paramref name="reason"/> for the caller to pass on.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public DmaError Fault(ulong iova, int length, bool write, DmaError reason) => Fault(iova, length, write, reason, null);

    /// <summary>As <see cref="Fault(ulong, int, bool, DmaError)"/>, reported to <paramref name="driver"/> alone (and the device's
    /// sink): for a function several drivers share (an RDMA device serves every script on its host), where the device knows
    /// whose work request made the access and the others must not be audited for it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public DmaError Fault(ulong iova, int length, bool write, DmaError reason, DmaOwner? driver)
    {
        long total = Interlocked.Increment(ref _faults);
        long suppressed;
        lock (_sync)
        {
            long second = _clock.NowNs / 1_000_000_000;
            if (second != _window)
            {
                _window = second;
                _reportedInWindow = 0;
            }
            if (_reportedInWindow >= ReportsPerSecond)
            {
                _suppressed++;
                return reason;
            }
            _reportedInWindow++;
            suppressed = _suppressed;
            _suppressed = 0;
        }
        DmaOwner[] attached = driver is null ? Volatile.Read(ref _owners) : [driver];
        if (attached.Length == 0)
        {
            _deviceSink?.DmaFault(new DmaFault(Function, null, iova, length, write, reason, total, suppressed));
            return reason;
        }
        foreach (DmaOwner owner in attached)
        {
            var fault = new DmaFault(Function, owner.Name, iova, length, write, reason, total, suppressed);
            owner.FaultSink?.DmaFault(fault);
            _deviceSink?.DmaFault(fault);
        }
        return reason;
    }

    public override string ToString() => $"iommu {Function} ({Attached.Count} attached, {Faults} faults)";
}
