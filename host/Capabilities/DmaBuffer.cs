using System.Buffers.Binary;
using System.Text;
using NicScript.Driver.Memory;

namespace NicScript.Host.Capabilities;

/// <summary>A script's view of one DMA region, checked against the V-Node's ownership on every call.</summary>
/// <remarks>
/// Two V-Nodes holding the same region each have their own <see cref="DmaBuffer"/>; after a MemShare transfer
/// the giver's view refuses every call (audited), the receiver's works.
/// </remarks>
public sealed class DmaBuffer : IDmaRegionSource
{
    private readonly VNodeContext _ctx;
    private readonly DmaMemory _memory;

    internal DmaBuffer(VNodeContext ctx, DmaMemory memory, DmaRegion region)
    {
        _ctx = ctx;
        _memory = memory;
        Region = region;
    }

    internal DmaRegion Region { get; }

    /// <summary>Handing the region to a device (a netdevice session) needs write access to it, as any use does.</summary>
    DmaRegion IDmaRegionSource.Region
    {
        get
        {
            DmaError e = Region.CheckAccess(_ctx.DmaOwner, write: true);
            return e == DmaError.None ? Region : throw Refused(e, "hand to a device");
        }
    }

    /// <summary>The region's number, unique for the machine's life.</summary>
    [ScriptApi] public int Id => Region.Id;

    /// <summary>The I/O virtual address a device uses for byte 0.</summary>
    [ScriptApi] public double Iova => Region.Iova;

    [ScriptApi] public int Length => Region.Length;

    /// <summary>True while this V-Node may read the buffer.</summary>
    [ScriptApi] public bool Accessible => Region.CheckAccess(_ctx.DmaOwner, write: false) == DmaError.None;

    [ScriptApi] public byte[] Read(int offset, int length) => Span(offset, length, write: false).ToArray();

    [ScriptApi]
    public void Write(int offset, byte[] data) => data.CopyTo(Span(offset, data.Length, write: true));

    /// <summary>Writes <paramref name="text"/> as UTF-8; returns the bytes written.</summary>
    [ScriptApi]
    public int WriteText(int offset, string text)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        return Encoding.UTF8.GetBytes(text, Span(offset, n, write: true));
    }

    [ScriptApi] public string ReadText(int offset, int length) => Encoding.UTF8.GetString(Span(offset, length, write: false));

    [ScriptApi] public int ReadU8(int offset) => Span(offset, 1, false)[0];

    [ScriptApi] public int ReadU16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(Span(offset, 2, false));

    [ScriptApi] public double ReadU32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Span(offset, 4, false));

    /// <summary>A little-endian 64-bit value (exact in JavaScript up to 2^53).</summary>
    [ScriptApi] public double ReadU64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Span(offset, 8, false));

    [ScriptApi] public void WriteU8(int offset, int value) => Span(offset, 1, true)[0] = checked((byte)value);

    [ScriptApi] public void WriteU16(int offset, int value) => BinaryPrimitives.WriteUInt16LittleEndian(Span(offset, 2, true), checked((ushort)value));

    [ScriptApi] public void WriteU32(int offset, double value) => BinaryPrimitives.WriteUInt32LittleEndian(Span(offset, 4, true), checked((uint)value));

    [ScriptApi] public void WriteU64(int offset, double value) => BinaryPrimitives.WriteUInt64LittleEndian(Span(offset, 8, true), checked((ulong)value));

    [ScriptApi] public void Fill(int value) => Span(0, Length, true).Fill(checked((byte)value));

    /// <summary>Lowercase hex of [offset, offset+length); the whole buffer by default.</summary>
    [ScriptApi]
    public string Hex(int offset = 0, int length = -1) =>
        Convert.ToHexStringLower(Span(offset, length < 0 ? Length - offset : length, write: false));

    /// <summary>Gives the buffer back: scrubbed, unmapped; every view of it fails afterwards.</summary>
    [ScriptApi]
    public void Free()
    {
        DmaError e = _memory.Free(_ctx.DmaOwner, Region);
        if (e != DmaError.None) throw Refused(e, "free");
    }

    /// <summary>Bytes for the host side (IPC, devices): checked once, then a span.</summary>
    internal Span<byte> Span(int offset, int length, bool write)
    {
        DmaError e = Region.TryGetSpan(_ctx.DmaOwner, offset, length, write, out Span<byte> span);
        return e == DmaError.None ? span : throw Refused(e, write ? "write" : "read", offset, length);
    }

    internal Exception Refused(DmaError e, string op, int offset = 0, int length = 0) => e switch
    {
        DmaError.NotOwner => _ctx.Deny("CAP_MEM_SHARE", $"dma#{Id}", $"dma#{Id} is not owned by {_ctx.Name} (transferred to {Region.Owner?.Name ?? "nobody"}): {op} refused"),
        DmaError.ReadOnly => _ctx.Deny("CAP_MEM_SHARE", $"dma#{Id}", $"dma#{Id} is lent read-only to {_ctx.Name}: {op} refused"),
        DmaError.Freed => new ScriptCallException($"dma#{Id} was freed: {op} refused"),
        DmaError.OutOfBounds => new ScriptCallException($"dma#{Id}: {op} of {length} bytes at offset {offset} is outside its {Length} bytes"),
        DmaError.Lent => new ScriptCallException($"dma#{Id} is lent out: revoke the loans before {op}"),
        _ => new ScriptCallException($"dma#{Id}: {op} refused: {e}"),
    };

    public override string ToString() => $"dma#{Id} iova=0x{Region.Iova:x} len={Length}";
}
