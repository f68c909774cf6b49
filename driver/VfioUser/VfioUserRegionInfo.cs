using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DEVICE_GET_REGION_INFO</c>: one region's size and what may be done with it.</summary>
/// <remarks>Layout (<c>struct vfio_region_info</c>, 32 bytes): argsz u32, flags u32 (bit 0 read, bit 1 write, bit 2 mmap,
/// bit 3 caps), index u32, cap_offset u32, size u64, offset u64. A request names the index; argsz (at least 32) is how much
/// the client can take back. The server offers no mmap and no capabilities, so every reply is exactly 32 bytes and the
/// request's other fields are not read.</remarks>
internal readonly record struct VfioUserRegionInfo(uint Argsz, uint Flags, uint Index, uint CapOffset, ulong Size, ulong Offset)
{
    public const int Length = 32;
    public const uint FlagRead = 1, FlagWrite = 2;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserRegionInfo info)
    {
        info = default;
        if (body.Length < Length) return WireError.Truncated;
        if (body.Length > Length) return WireError.TooLong;
        var i = new VfioUserRegionInfo(BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[8..]), BinaryPrimitives.ReadUInt32LittleEndian(body[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[16..]), BinaryPrimitives.ReadUInt64LittleEndian(body[24..]));
        if (i.Argsz < Length) return WireError.OutOfRange;
        info = i;
        return WireError.None;
    }

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body, Argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(body[8..], Index);
        BinaryPrimitives.WriteUInt32LittleEndian(body[12..], CapOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(body[16..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(body[24..], Offset);
    }
}
