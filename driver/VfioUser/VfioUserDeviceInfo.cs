using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DEVICE_GET_INFO</c>: what kind of device, how many regions and interrupt indexes.</summary>
/// <remarks>Layout (<c>struct vfio_device_info</c>, 16 bytes): argsz u32, flags u32 (bit 0 reset, bit 1 PCI), num_regions
/// u32, num_irqs u32. In a request only argsz counts (at least 16: the client has room for the reply); the rest is the
/// reply's and is not checked.</remarks>
internal readonly record struct VfioUserDeviceInfo(uint Argsz, uint Flags, uint NumRegions, uint NumIrqs)
{
    public const int Length = 16;
    public const uint FlagReset = 1, FlagPci = 2;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserDeviceInfo info)
    {
        Span<uint> w = stackalloc uint[Length / 4];
        WireError error = VfioUserInfoBody.TryRead(body, w);
        info = error == WireError.None ? new VfioUserDeviceInfo(w[0], w[1], w[2], w[3]) : default;
        return error;
    }

    public void Write(Span<byte> body) => VfioUserInfoBody.Write(body, [Argsz, Flags, NumRegions, NumIrqs]);
}
