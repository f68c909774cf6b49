using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NicScript.Driver.Memory;

/// <summary>One page-aligned block of unmanaged DMA memory at a fixed IOVA, owned by one <see cref="DmaOwner"/>.</summary>
/// <remarks>
/// Design: the owner reads and writes; a borrower (MemShare lend) only reads; a transfer moves ownership and the
/// giver loses access at once. Devices reach the bytes by IOVA through their function's <see cref="IommuDomain"/>, which
/// reads the same owner and loans: what the owner's driver may no longer touch, its device may not either. Ownership changes take <c>_sync</c>; access checks read the volatile
/// owner and loan list without it, so the data path never locks. The native block is never returned to the OS
/// while the <see cref="DmaMemory"/> lives: a freed block is scrubbed and pooled, so a stale pointer can only
/// ever reach memory we still own.
/// </remarks>
public sealed unsafe class DmaRegion : IDmaRegionSource
{
    private readonly object _sync = new();
    private readonly DmaMemory _memory;
    private DmaOwner? _owner;
    private DmaLoan[] _loans = [];
    private byte* _pointer;

    internal DmaRegion(DmaMemory memory, int id, ulong iova, int length, byte* pointer, DmaOwner owner, bool external = false)
    {
        _memory = memory;
        External = external;
        Id = id;
        Iova = iova;
        Length = length;
        _pointer = pointer;
        _owner = owner;
    }

    /// <summary>A number unique within its <see cref="DmaMemory"/>, never reused.</summary>
    public int Id { get; }

    public ulong Iova { get; }

    /// <summary>True for memory the machine does not own (a guest's RAM mapped from a vfio-user fd): never scrubbed or pooled.</summary>
    internal bool External { get; }

    public int Length { get; }

    DmaRegion IDmaRegionSource.Region => this;

    /// <summary>The current owner, or null once freed.</summary>
    public DmaOwner? Owner => Volatile.Read(ref _owner);

    public bool IsFreed => Volatile.Read(ref _owner) is null;

    /// <summary>Who borrows the region now.</summary>
    public IReadOnlyList<DmaLoan> Loans => Volatile.Read(ref _loans);

    /// <summary>The loans as the array published last (the IOMMU check scans it without enumerator or lock).</summary>
    internal DmaLoan[] LoanArray => Volatile.Read(ref _loans);

    internal byte* Pointer => _pointer;

    /// <summary>The whole region if <paramref name="who"/> owns it now, else empty (freed, transferred away): for a software
    /// device that serves one client's regions (a netdevice session) and must stop at once when they leave the client.</summary>
    internal Span<byte> SpanIfOwnedBy(DmaOwner? who)
    {
        byte* p = _pointer; // read first: a non-null block stays ours (pooled) even if freed right after
        return p is null || who is null || !ReferenceEquals(Volatile.Read(ref _owner), who) ? Span<byte>.Empty : new Span<byte>(p, Length);
    }

    /// <summary>The bytes, for the device side (no ownership check). Empty once freed.</summary>
    internal Span<byte> DeviceSpan => IsFreed ? Span<byte>.Empty : new Span<byte>(_pointer, Length);

    /// <summary>Checks that <paramref name="who"/> may read (or write) this region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DmaError CheckAccess(DmaOwner who, bool write)
    {
        DmaOwner? owner = Volatile.Read(ref _owner);
        if (owner is null) return DmaError.Freed;
        if (ReferenceEquals(owner, who)) return DmaError.None;
        return CheckLoan(who, write);
    }

    private DmaError CheckLoan(DmaOwner who, bool write)
    {
        foreach (DmaLoan loan in Volatile.Read(ref _loans))
            if (ReferenceEquals(loan.Borrower, who)) return write ? DmaError.ReadOnly : DmaError.None;
        return DmaError.NotOwner;
    }

    /// <summary>The bytes as <paramref name="who"/> may see them; fails closed on any access problem.</summary>
    public DmaError TryGetSpan(DmaOwner who, int offset, int length, bool write, out Span<byte> span)
    {
        span = default;
        DmaError e = CheckAccess(who, write);
        if (e != DmaError.None) return e;
        if (offset < 0 || length < 0 || (long)offset + length > Length) return DmaError.OutOfBounds;
        span = new Span<byte>(_pointer + offset, length);
        return DmaError.None;
    }

    /// <summary>Moves ownership from <paramref name="from"/> to <paramref name="to"/>; the giver loses access.</summary>
    public DmaError Transfer(DmaOwner from, DmaOwner to)
    {
        lock (_sync)
        {
            if (_owner is null) return DmaError.Freed;
            if (!ReferenceEquals(_owner, from)) return DmaError.NotOwner;
            if (ReferenceEquals(from, to)) return DmaError.SelfTarget;
            if (_loans.Length != 0) return DmaError.Lent;
            long charge = (long)IovaAllocator.RoundUp((ulong)Length);
            if (!to.TryCharge(charge)) return DmaError.BudgetExceeded;
            from.Release(charge);
            Volatile.Write(ref _owner, to);
            _memory.Revoked(); // the giver's devices lose it now
            return DmaError.None;
        }
    }

    /// <summary>Lets <paramref name="to"/> read the region until the owner revokes it.</summary>
    public DmaError Lend(DmaOwner from, DmaOwner to)
    {
        lock (_sync)
        {
            if (_owner is null) return DmaError.Freed;
            if (!ReferenceEquals(_owner, from)) return DmaError.NotOwner;
            if (ReferenceEquals(from, to)) return DmaError.SelfTarget;
            foreach (DmaLoan l in _loans)
                if (ReferenceEquals(l.Borrower, to)) return DmaError.None;
            Volatile.Write(ref _loans, [.. _loans, new DmaLoan(to, ReadOnly: true)]);
            return DmaError.None;
        }
    }

    /// <summary>Ends the loan to <paramref name="borrower"/>, or every loan when it is null.</summary>
    public DmaError Revoke(DmaOwner from, DmaOwner? borrower)
    {
        lock (_sync)
        {
            if (_owner is null) return DmaError.Freed;
            if (!ReferenceEquals(_owner, from)) return DmaError.NotOwner;
            Volatile.Write(ref _loans, borrower is null ? [] : Array.FindAll(_loans, l => !ReferenceEquals(l.Borrower, borrower)));
            _memory.Revoked();
            return DmaError.None;
        }
    }

    /// <summary>Marks the region freed and scrubs it; the caller returns the block and IOVA range.</summary>
    internal DmaError Retire(DmaOwner? by, bool force)
    {
        lock (_sync)
        {
            if (_owner is null) return DmaError.Freed;
            if (!force && !ReferenceEquals(_owner, by)) return DmaError.NotOwner;
            if (!force && _loans.Length != 0) return DmaError.Lent;
            _owner.Release((long)IovaAllocator.RoundUp((ulong)Length));
            Volatile.Write(ref _owner, null);
            Volatile.Write(ref _loans, []);
            _memory.Revoked();
            if (!External) new Span<byte>(_pointer, Length).Clear(); // scrub: the next owner never sees our bytes (a guest's RAM stays the guest's)
            Debug.Assert(IsFreed);
            return DmaError.None;
        }
    }

    internal byte* Detach()
    {
        byte* p = _pointer;
        _pointer = null;
        return p;
    }

    public override string ToString() => $"dma#{Id} iova=0x{Iova:x} len={Length}";
}
