using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DEVICE_GET_IRQ_INFO</c>: how many interrupts an index (INTx, MSI, MSI-X, error,
/// request) has and how they are signalled.</summary>
/// <remarks>Layout (<c>struct vfio_irq_info</c>, 16 bytes): argsz u32, flags u32 (bit 0 eventfd, bit 1 maskable, bit 2
/// automasked, bit 3 noresize), index u32, count u32. A request names the index; the server judges it.</remarks>
internal readonly record struct VfioUserIrqInfo(uint Argsz, uint Flags, uint Index, uint Count)
{
    public const int Length = 16;
    public const uint FlagEventfd = 1, FlagMaskable = 2, FlagAutomasked = 4, FlagNoResize = 8;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserIrqInfo info)
    {
        Span<uint> w = stackalloc uint[Length / 4];
        WireError error = VfioUserInfoBody.TryRead(body, w);
        info = error == WireError.None ? new VfioUserIrqInfo(w[0], w[1], w[2], w[3]) : default;
        return error;
    }

    public void Write(Span<byte> body) => VfioUserInfoBody.Write(body, [Argsz, Flags, Index, Count]);
}
