namespace NicScript.Driver.Memory;

/// <summary>Up to <see cref="Capacity"/> frames in DMA buffers of one pool: what one <c>Tx</c> or <c>RxPoll</c> call moves.</summary>
/// <remarks>
/// Zero copy both ways: <c>Tx</c> posts the burst's slots to the device and refills the burst with free slots;
/// <c>RxPoll</c> hands the caller the slots the device filled and reposts the ones it had. A slot belongs to exactly one
/// of: the burst, the pool's free list, or the device.
/// </remarks>
public sealed class FrameBurst
{
    public const int DefaultCapacity = 32;

    private readonly int[] _slots;
    private readonly int[] _lengths;

    public FrameBurst(FramePool pool, int capacity = DefaultCapacity)
    {
        Pool = pool;
        _slots = new int[capacity];
        _lengths = new int[capacity];
        _slots.AsSpan().Fill(-1);
    }

    public FramePool Pool { get; }

    public int Capacity => _slots.Length;

    /// <summary>Frames in the burst.</summary>
    public int Count { get; set; }

    public int Slot(int i) => _slots[i];

    public int Length(int i) => _lengths[i];

    public void SetLength(int i, int length)
    {
        if ((uint)length > (uint)Pool.MaxFrame) throw new ArgumentOutOfRangeException(nameof(length), $"a frame is at most {Pool.MaxFrame} bytes");
        _lengths[i] = length;
    }

    /// <summary>Frame i's bytes (its current length).</summary>
    public Span<byte> Frame(int i) => _slots[i] < 0 ? Span<byte>.Empty : Pool.Frame(_slots[i], _lengths[i]);

    /// <summary>Frame i's whole buffer, to write a new frame into.</summary>
    public Span<byte> Buffer(int i) => _slots[i] < 0 ? Span<byte>.Empty : Pool.Frame(_slots[i], Pool.MaxFrame);

    /// <summary>The positions' slots and lengths, for the driver's burst loops (which check <see cref="Count"/> against
    /// the capacity once, and each slot against the pool).</summary>
    internal int[] Slots => _slots;

    internal int[] Lengths => _lengths;

    internal void MarkHoles() => HasHoles = true;

    internal void Set(int i, int slot, int length)
    {
        _slots[i] = slot;
        _lengths[i] = length;
        if (slot < 0) HasHoles = true;
    }

    /// <summary>True when a position may hold no slot (the pool ran dry when it was refilled); <see cref="Fill"/> looks then.</summary>
    public bool HasHoles { get; private set; } = true;

    /// <summary>Takes frame i's slot out of the burst (to hand it to another V-Node); position i gets a fresh slot if the pool has one.</summary>
    public int Take(int i)
    {
        int slot = _slots[i];
        _slots[i] = Pool.TryRent(out int fresh) ? fresh : -1;
        _lengths[i] = 0;
        if (_slots[i] < 0) HasHoles = true;
        return slot;
    }

    /// <summary>Puts <paramref name="slot"/> (a frame of <paramref name="length"/> bytes) at position i; the slot that was there goes back to the pool.</summary>
    /// <remarks>A slot enters the burst only if the pool's owner holds it and the burst does not already: its generation
    /// moves (<see cref="FramePool.TryReuse"/>), so every view of it made before — a script's frame handle, a message's view —
    /// is dead, and the burst is its one holder (a live view could otherwise send it to another V-Node while the burst
    /// still reads, writes and transmits it).</remarks>
    /// <exception cref="InvalidOperationException">The slot is another V-Node's, free, outside the pool, or already in the burst.</exception>
    public void Put(int i, int slot, int length)
    {
        if ((uint)length > (uint)Pool.MaxFrame) throw new ArgumentOutOfRangeException(nameof(length), $"a frame is at most {Pool.MaxFrame} bytes");
        if (slot >= 0)
        {
            if (Array.IndexOf(_slots, slot) >= 0) throw new InvalidOperationException($"frame#{slot} is already in this burst");
            if (!Pool.TryReuse(slot)) throw new InvalidOperationException($"frame#{slot} is not held by the pool's owner");
        }
        if (_slots[i] >= 0) Pool.Return(_slots[i]);
        _slots[i] = slot;
        if (slot < 0) HasHoles = true;
        _lengths[i] = length;
    }

    /// <summary>Makes sure every position holds a slot (renting from the pool); false when the pool ran dry.</summary>
    public bool Fill()
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i] < 0)
            {
                if (!Pool.TryRent(out int s)) return false;
                _slots[i] = s;
            }
        HasHoles = false;
        return true;
    }

    /// <summary>Gives every slot back to the pool.</summary>
    public void Release()
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i] >= 0)
            {
                Pool.Return(_slots[i]);
                _slots[i] = -1;
            }
        Count = 0;
        HasHoles = true;
    }
}
