using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_REGION_READ</c> and <c>VFIO_USER_REGION_WRITE</c>: where in which region, how many
/// bytes, and (a write request, a read reply) the bytes.</summary>
/// <remarks>Layout (<c>struct vfio_user_region_access</c>, 16 bytes, then data): offset u64, region u32, count u32. A read
/// request is exactly 16 bytes; a write request carries exactly <c>count</c> bytes after them. Whether the region exists and
/// the range fits is the server's to judge.</remarks>
internal readonly record struct VfioUserRegionAccess(ulong Offset, uint Region, uint Count)
{
    public const int Length = 16;

    /// <param name="withData">A write request (count bytes follow) rather than a read request.</param>
    public static WireError TryRead(ReadOnlySpan<byte> body, bool withData, out VfioUserRegionAccess access)
    {
        access = default;
        if (body.Length < Length) return WireError.Truncated;
        var a = new VfioUserRegionAccess(BinaryPrimitives.ReadUInt64LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[12..]));
        long expected = Length + (withData ? (long)a.Count : 0);
        if (body.Length < expected) return WireError.Truncated;
        if (body.Length > expected) return WireError.TooLong;
        access = a;
        return WireError.None;
    }

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(body, Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[8..], Region);
        BinaryPrimitives.WriteUInt32LittleEndian(body[12..], Count);
    }
}
