using System.Buffers.Binary;
using NicScript.Driver.Memory;

namespace NicScript.Host.Capabilities;

/// <summary>One received or to-be-sent frame in a NIC's frame pool, held by one V-Node; it crosses to another only by MemShare transfer.</summary>
/// <remarks>
/// Each V-Node that holds the frame has its own view; every call checks that the slot is still this V-Node's, so after
/// a transfer the giver's view refuses every call (audited as a <c>CAP_MEM_SHARE</c> denial) and the receiver's works.
/// </remarks>
public sealed class FrameBuffer
{
    private readonly VNodeContext _ctx;
    private int _length;

    private readonly int _generation;

    /// <summary>A view for <paramref name="ctx"/> of the slot as it is now (its current generation).</summary>
    internal FrameBuffer(VNodeContext ctx, FramePool pool, int slot, int length)
    {
        _ctx = ctx;
        Pool = pool;
        Slot = slot;
        _length = length;
        _generation = pool.Generation(slot);
    }

    internal FramePool Pool { get; }

    internal int Slot { get; }

    internal VNodeContext Holder => _ctx;

    /// <summary>The slot number in its NIC's pool (stable while the frame travels).</summary>
    [ScriptApi] public int Id => Slot;

    [ScriptApi] public int Length => _length;

    /// <summary>The largest frame the buffer holds.</summary>
    [ScriptApi] public int MaxFrame => Pool.MaxFrame;

    /// <summary>True while this V-Node holds the frame.</summary>
    [ScriptApi] public bool Accessible => Pool.TryGetFrame(_ctx.DmaOwner, Slot, _generation, 0, out _) == DmaError.None;

    [ScriptApi] public byte[] Read() => Frame(_length).ToArray();

    [ScriptApi] public string Hex() => Convert.ToHexStringLower(Frame(_length));

    [ScriptApi]
    public int ReadU8(int offset) => offset >= 0 && offset < _length ? Frame(_length)[offset] : throw OutOfFrame(offset, 1);

    [ScriptApi]
    public int ReadU16BE(int offset) => offset >= 0 && offset + 2 <= _length ? BinaryPrimitives.ReadUInt16BigEndian(Frame(_length)[offset..]) : throw OutOfFrame(offset, 2);

    /// <summary>Replaces the frame (e.g. a reply written into the request's buffer: no copy, no allocation on the NIC side).</summary>
    [ScriptApi]
    public void Write(byte[] frame)
    {
        if (frame.Length > Pool.MaxFrame) throw new ScriptCallException($"frame#{Slot}: {frame.Length} bytes, at most {Pool.MaxFrame}");
        frame.CopyTo(Frame(frame.Length));
        _length = frame.Length;
    }

    internal void SetLength(int length) => _length = length;

    internal Span<byte> Frame(int length)
    {
        DmaError e = Pool.TryGetFrame(_ctx.DmaOwner, Slot, _generation, length, out Span<byte> span);
        return e switch
        {
            DmaError.None => span,
            DmaError.NotOwner => throw _ctx.Deny("CAP_MEM_SHARE", $"frame#{Slot}", $"frame#{Slot} is not held by {_ctx.Name} (it was transferred away or released)"),
            DmaError.Freed => throw new ScriptCallException($"frame#{Slot}: its NIC was brought down"),
            _ => throw new ScriptCallException($"frame#{Slot}: {e}"),
        };
    }

    private ScriptCallException OutOfFrame(int offset, int size) => new($"frame#{Slot}: {size} byte(s) at {offset} is past its {_length} bytes");

    public override string ToString() => $"frame#{Slot} ({_length} bytes)";
}
