using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DMA_UNMAP</c> (request and reply): the guest range whose mappings end.</summary>
/// <remarks>Layout (<c>struct vfio_user_dma_unmap</c>, 24 bytes): argsz u32, flags u32 (bit 0 get dirty bitmap, bit 1 unmap
/// all; the rest reserved), address (IOVA) u64, size u64. A dirty-bitmap request would carry a bitmap after it; the server
/// tracks no dirty pages and refuses it, so the body must be exactly 24 bytes.</remarks>
internal readonly record struct VfioUserDmaUnmap(uint Argsz, uint Flags, ulong Iova, ulong Size)
{
    public const int Length = 24;
    public const uint FlagGetDirtyBitmap = 1, FlagAll = 2;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserDmaUnmap unmap)
    {
        unmap = default;
        if (body.Length < Length) return WireError.Truncated;
        if (body.Length > Length) return WireError.TooLong;
        var u = new VfioUserDmaUnmap(BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[8..]), BinaryPrimitives.ReadUInt64LittleEndian(body[16..]));
        if (u.Argsz != Length) return WireError.OutOfRange;
        if ((u.Flags & ~(FlagGetDirtyBitmap | FlagAll)) != 0) return WireError.ReservedBitsSet;
        unmap = u;
        return WireError.None;
    }

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body, Argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(body[8..], Iova);
        BinaryPrimitives.WriteUInt64LittleEndian(body[16..], Size);
    }
}
