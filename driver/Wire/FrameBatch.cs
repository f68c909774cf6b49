using System.Runtime.CompilerServices;

namespace NicScript.Driver.Wire;

/// <summary>A burst of frames handed along a wire in one call: a device's TX burst reaches the other end's receive side
/// as one <see cref="IFrameReceiver.ReceiveBurst"/>, so the per-frame calls through port, link and receiver are paid
/// once per burst (as DPDK's rx/tx burst functions do).</summary>
/// <remarks>Holds the addresses of frames in DMA memory (native, never moved by the GC), valid only until the call that
/// carries the batch returns: a receiver copies each frame it keeps, as with <see cref="IFrameReceiver.Receive"/>. Only
/// the driver core fills one; it is reused burst after burst and allocates nothing.</remarks>
public sealed unsafe class FrameBatch
{
    /// <summary>The most frames one batch carries; a longer TX burst goes as several batches.</summary>
    public const int Capacity = 64;

    private readonly nint[] _at = new nint[Capacity];
    private readonly int[] _length = new int[Capacity];

    /// <summary>Frames in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes of all frames in the batch.</summary>
    public long Bytes { get; private set; }

    public bool IsFull => Count == Capacity;

    /// <summary>Frame <paramref name="i"/>'s bytes.</summary>
    public ReadOnlySpan<byte> this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)i >= (uint)Count) ThrowIndex(i); // out of line: a receiver's loop inlines the read
            return new ReadOnlySpan<byte>((void*)_at[i], _length[i]);
        }
    }

    /// <summary>Frame <paramref name="i"/>'s length.</summary>
    public int Length(int i)
    {
        if ((uint)i >= (uint)Count) ThrowIndex(i);
        return _length[i];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowIndex(int i) => throw new ArgumentOutOfRangeException(nameof(i), $"the batch holds {Count} frames");

    /// <summary>Adds a frame that lies in native memory which stays valid until the batch is sent.</summary>
    internal void Add(byte* frame, int length)
    {
        _at[Count] = (nint)frame;
        _length[Count] = length;
        Count++;
        Bytes += length;
    }

    /// <summary>Adds frame <paramref name="i"/> of <paramref name="from"/> (same lifetime: until the call carrying
    /// <paramref name="from"/> returns), so a burst can be split by destination without a copy.</summary>
    internal void Add(FrameBatch from, int i)
    {
        _at[Count] = from._at[i];
        _length[Count] = from._length[i];
        Count++;
        Bytes += from._length[i];
    }

    internal void Clear()
    {
        Count = 0;
        Bytes = 0;
    }
}
