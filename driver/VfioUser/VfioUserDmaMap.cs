using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DMA_MAP</c>: a range of guest memory, the offset of its bytes in the fd that comes with
/// the message (none for memory the client cannot share), and whether the device may read and write it.</summary>
/// <remarks>Layout (<c>struct vfio_user_dma_map</c>, 32 bytes): argsz u32, flags u32 (bit 0 read, bit 1 write, the rest
/// reserved), offset u64, address (IOVA) u64, size u64. argsz must be the body's length. Alignment, size and overlap are the
/// server's to judge (an errno reply), not the decoder's.</remarks>
internal readonly record struct VfioUserDmaMap(uint Argsz, uint Flags, ulong Offset, ulong Iova, ulong Size)
{
    public const int Length = 32;
    public const uint FlagRead = 1, FlagWrite = 2;

    public bool Readable => (Flags & FlagRead) != 0;

    public bool Writable => (Flags & FlagWrite) != 0;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserDmaMap map)
    {
        map = default;
        if (body.Length < Length) return WireError.Truncated;
        if (body.Length > Length) return WireError.TooLong;
        var m = new VfioUserDmaMap(BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[8..]), BinaryPrimitives.ReadUInt64LittleEndian(body[16..]), BinaryPrimitives.ReadUInt64LittleEndian(body[24..]));
        if (m.Argsz != Length) return WireError.OutOfRange;
        if ((m.Flags & ~(FlagRead | FlagWrite)) != 0) return WireError.ReservedBitsSet;
        map = m;
        return WireError.None;
    }

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body, Argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(body[8..], Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(body[16..], Iova);
        BinaryPrimitives.WriteUInt64LittleEndian(body[24..], Size);
    }
}
