using NicScript.Driver.Memory;

namespace NicScript.Host.Capabilities;

/// <summary>A script's burst of frame buffers: what <c>tx</c> sends and <c>rxPoll</c> fills. Frames live in DMA memory.</summary>
public sealed class FrameBurstHandle
{
    private readonly VNodeContext _ctx;

    internal FrameBurstHandle(VNodeContext ctx, FrameBurst burst)
    {
        _ctx = ctx;
        Burst = burst;
    }

    internal FrameBurst Burst { get; }

    /// <summary>Takes frame i out of the burst as a buffer of its own (to send to another V-Node); position i gets a fresh buffer.</summary>
    [ScriptApi]
    public FrameBuffer Take(int i)
    {
        int length = Burst.Length(Index(i));
        return new FrameBuffer(_ctx, Burst.Pool, Burst.Take(i), length);
    }

    /// <summary>Puts a buffer (one that came back, or a reply written into it) at position i, to send; the burst's count grows to include it.</summary>
    [ScriptApi]
    public void Put(int i, FrameBuffer frame)
    {
        int at = Index(i, forWrite: true);
        if (!ReferenceEquals(frame.Pool, Burst.Pool)) throw new ScriptCallException($"{frame} belongs to another NIC's pool");
        frame.Frame(frame.Length); // held by us? (a denial otherwise)
        PutSlot(at, frame.Slot, frame.Length); // the handle dies: the burst is the frame's one holder now
        if (Burst.Count <= at) Burst.Count = at + 1;
    }

    /// <summary>Appends the frames of <paramref name="messages"/> (a <c>serveBurst</c> handler's), from message
    /// <paramref name="from"/> on, after the burst's frames until it is full: the burst's count grows by each. A frame of length 0
    /// has nothing to send and goes back to the pool instead. Returns the index of the first message not looked at
    /// (<c>messages.count</c> when all were): call again after <c>tx</c> while it is less.</summary>
    /// <remarks>The frames must be this burst's NIC's, and this V-Node the NIC's (its pool's owner): they came home.</remarks>
    [ScriptApi]
    public int Gather(IpcBurst messages, int from = 0)
    {
        if (Burst.Pool.Region.IsFreed) throw new ScriptCallException("this burst's NIC was brought down: its buffers are gone");
        if (!ReferenceEquals(messages.Holder, _ctx) || !ReferenceEquals(_ctx.DmaOwner, Burst.Pool.Owner))
            throw new ScriptCallException("tx.gather: the frames must come home to the V-Node that owns the NIC");
        int i = Math.Max(0, from);
        for (; i < messages.Count; i++)
        {
            if (!messages.HasFrame(i)) continue;
            if (Burst.Count >= Burst.Capacity) break;
            if (!messages.TryMove(i, out FramePool pool, out int slot, out int length)) continue;
            if (!ReferenceEquals(pool, Burst.Pool)) throw new ScriptCallException($"frame#{slot} belongs to another NIC's pool");
            if (length == 0)
            {
                Burst.Pool.Return(slot);
                continue;
            }
            PutSlot(Burst.Count, slot, length);
            Burst.Count++;
        }
        return i;
    }

    private void PutSlot(int at, int slot, int length)
    {
        try
        {
            Burst.Put(at, slot, length);
        }
        catch (InvalidOperationException e)
        {
            throw new ScriptCallException("burst.put: " + e.Message);
        }
    }

    /// <summary>Frames in the burst (set it before <c>tx</c>).</summary>
    [ScriptApi]
    public int Count
    {
        get => Burst.Count;
        set => Burst.Count = value is >= 0 && value <= Burst.Capacity ? value : throw new ScriptCallException($"burst count {value}: 0..{Burst.Capacity}");
    }

    [ScriptApi] public int Capacity => Burst.Capacity;

    /// <summary>The largest frame a buffer holds.</summary>
    [ScriptApi] public int MaxFrame => Burst.Pool.MaxFrame;

    [ScriptApi] public int Length(int i) => Burst.Length(Index(i));

    /// <summary>Frame i's bytes (a copy).</summary>
    [ScriptApi] public byte[] Read(int i) => Burst.Frame(Index(i)).ToArray();

    /// <summary>Frame i's bytes as lowercase hex.</summary>
    [ScriptApi] public string Hex(int i) => Convert.ToHexStringLower(Burst.Frame(Index(i)));

    /// <summary>Puts a frame into buffer i and sets its length; the burst's count grows to include it.</summary>
    [ScriptApi]
    public void Write(int i, byte[] frame)
    {
        int at = Index(i, forWrite: true);
        if (frame.Length > Burst.Pool.MaxFrame) throw new ScriptCallException($"frame of {frame.Length} bytes: at most {Burst.Pool.MaxFrame}");
        frame.CopyTo(Burst.Buffer(at));
        Burst.SetLength(at, frame.Length);
        if (Burst.Count <= at) Burst.Count = at + 1;
    }

    /// <summary>Sets frame i's length without touching its bytes.</summary>
    [ScriptApi]
    public void SetLength(int i, int length)
    {
        int at = Index(i, forWrite: true);
        if (length < 0 || length > Burst.Pool.MaxFrame) throw new ScriptCallException($"length {length}: 0..{Burst.Pool.MaxFrame}");
        Burst.SetLength(at, length);
    }

    /// <summary>Makes the first <paramref name="count"/> frames <paramref name="length"/> bytes long (their bytes as they are): for traffic generators and benchmarks.</summary>
    [ScriptApi]
    public void Prepare(int count, int length)
    {
        Count = count;
        for (int i = 0; i < count; i++) SetLength(i, length);
    }

    /// <summary>Reads a big-endian 16-bit field of frame i (e.g. the EtherType at 12).</summary>
    [ScriptApi] public int ReadU16BE(int i, int offset) => System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(Burst.Frame(Index(i))[Check(i, offset, 2)..]);

    [ScriptApi] public int ReadU8(int i, int offset) => Burst.Frame(Index(i))[Check(i, offset, 1)];

    private int Check(int i, int offset, int size) =>
        offset >= 0 && offset + size <= Burst.Length(i) ? offset : throw new ScriptCallException($"frame {i}: offset {offset} is past its {Burst.Length(i)} bytes");

    private int Index(int i, bool forWrite = false)
    {
        if (Burst.Pool.Region.IsFreed) throw new ScriptCallException("this burst's NIC was brought down: its buffers are gone");
        int limit = forWrite ? Burst.Capacity : Burst.Count;
        if (i < 0 || i >= limit) throw new ScriptCallException($"frame {i}: the burst has {(forWrite ? Burst.Capacity + " buffers" : Burst.Count + " frames")}");
        if (Burst.Slot(i) < 0) throw new ScriptCallException($"frame {i}: no buffer (the pool ran dry)");
        return i;
    }

    public override string ToString() => $"burst {Count}/{Capacity}";
}
