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
        Span<uint> w = stackalloc uint[Length / 4];
        WireError error = VfioUserInfoBody.TryRead(body, w);
        info = error == WireError.None ? new VfioUserRegionInfo(w[0], w[1], w[2], w[3], VfioUserInfoBody.U64(w, 4), VfioUserInfoBody.U64(w, 6)) : default;
        return error;
    }

    public void Write(Span<byte> body) => VfioUserInfoBody.Write(body, [Argsz, Flags, Index, CapOffset, (uint)Size, (uint)(Size >> 32), (uint)Offset, (uint)(Offset >> 32)]);
}
