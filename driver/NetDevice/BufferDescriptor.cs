using System.Buffers.Binary;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>The version-1 buffer descriptor (reference §1.1): 40 little-endian bytes at the start of each slot.</summary>
public sealed class BufferDescriptor
{
    public const int FrameTypeAt = 0, ChainLengthAt = 1, NxtAt = 2, InfoTypeAt = 4, PortIdAt = 8, OffsetAt = 16, HeadLengthAt = 24,
        TailLengthAt = 26, DataLengthAt = 28, InboundFlagsAt = 32, ReturnFlagsAt = 36;

    /// <summary>All fields 0; C# scripts fill it with an object initializer.</summary>
    [ScriptApi]
    public BufferDescriptor()
    {
    }

    /// <summary>A <see cref="NetDevice.FrameType"/> value as a byte (0 is "none": the reader must check).</summary>
    [ScriptApi] public byte FrameType { get; set; }
    [ScriptApi] public byte ChainLength { get; set; }
    [ScriptApi] public ushort Nxt { get; set; }
    [ScriptApi] public uint InfoType { get; set; }
    [ScriptApi] public byte PortId { get; set; }
    [ScriptApi] public ulong Offset { get; set; }
    [ScriptApi] public ushort HeadLength { get; set; }
    [ScriptApi] public ushort TailLength { get; set; }
    [ScriptApi] public uint DataLength { get; set; }
    [ScriptApi] public uint InboundFlags { get; set; }
    [ScriptApi] public uint ReturnFlags { get; set; }

    public static BufferDescriptor Read(ReadOnlySpan<byte> s) => new()
    {
        FrameType = s[FrameTypeAt],
        ChainLength = s[ChainLengthAt],
        Nxt = BinaryPrimitives.ReadUInt16LittleEndian(s[NxtAt..]),
        InfoType = BinaryPrimitives.ReadUInt32LittleEndian(s[InfoTypeAt..]),
        PortId = s[PortIdAt],
        Offset = BinaryPrimitives.ReadUInt64LittleEndian(s[OffsetAt..]),
        HeadLength = BinaryPrimitives.ReadUInt16LittleEndian(s[HeadLengthAt..]),
        TailLength = BinaryPrimitives.ReadUInt16LittleEndian(s[TailLengthAt..]),
        DataLength = BinaryPrimitives.ReadUInt32LittleEndian(s[DataLengthAt..]),
        InboundFlags = BinaryPrimitives.ReadUInt32LittleEndian(s[InboundFlagsAt..]),
        ReturnFlags = BinaryPrimitives.ReadUInt32LittleEndian(s[ReturnFlagsAt..]),
    };

    /// <summary>Writes the 11 fields; bytes 9–15 and anything past 40 are left as they are.</summary>
    public void Write(Span<byte> s)
    {
        s[FrameTypeAt] = FrameType;
        s[ChainLengthAt] = ChainLength;
        BinaryPrimitives.WriteUInt16LittleEndian(s[NxtAt..], Nxt);
        BinaryPrimitives.WriteUInt32LittleEndian(s[InfoTypeAt..], InfoType);
        s[PortIdAt] = PortId;
        BinaryPrimitives.WriteUInt64LittleEndian(s[OffsetAt..], Offset);
        BinaryPrimitives.WriteUInt16LittleEndian(s[HeadLengthAt..], HeadLength);
        BinaryPrimitives.WriteUInt16LittleEndian(s[TailLengthAt..], TailLength);
        BinaryPrimitives.WriteUInt32LittleEndian(s[DataLengthAt..], DataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(s[InboundFlagsAt..], InboundFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[ReturnFlagsAt..], ReturnFlags);
    }

    public override string ToString() =>
        $"type {FrameType} chain {ChainLength} nxt {Nxt} info {InfoType} port {PortId} offset {Offset} head {HeadLength} data {DataLength} tail {TailLength} in 0x{InboundFlags:x} ret 0x{ReturnFlags:x}";
}

/// <summary>A typed view of a descriptors region (stride = <c>lengthWords × 8</c> bytes), for clients.</summary>
public sealed class DescriptorTable
{
    private readonly DmaRegion _region;
    private readonly DmaOwner? _client;

    public DescriptorTable(IDmaRegionSource region, int lengthWords)
    {
        if (lengthWords < NetConstants.MinDescriptorLength || lengthWords > byte.MaxValue)
            throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"descriptorTable: lengthWords must be {NetConstants.MinDescriptorLength}..255, got {lengthWords}");
        _region = region.Region; // a script's buffer checks here that it may write it
        _client = _region.Owner;
        Stride = lengthWords * 8;
    }

    [ScriptApi] public int Stride { get; }

    /// <summary>Slots that fit in the region.</summary>
    [ScriptApi] public int Count => _region.Length / Stride;

    [ScriptApi] public BufferDescriptor Get(int index) => BufferDescriptor.Read(Slot(index));

    [ScriptApi] public void Set(int index, BufferDescriptor d) => d.Write(Slot(index));

    /// <summary>The slot's bytes (all <see cref="Stride"/> of them), for allocation-free clients.</summary>
    public Span<byte> Slot(int index)
    {
        if (index < 0 || index >= Count) throw new ZxException(ZxStatus.ZX_ERR_OUT_OF_RANGE, $"descriptor {index}: the table has {Count} slots");
        Span<byte> all = _region.SpanIfOwnedBy(_client); // the giver loses access on transfer, as with its buffer
        if (all.IsEmpty) throw new ZxException(ZxStatus.ZX_ERR_BAD_STATE, "the descriptors region was freed or given away");
        return all.Slice(index * Stride, Stride);
    }
}
