namespace NicScript.Driver.Devices.Virtio;

/// <summary>Sizes and offsets of the split virtqueue's three areas (virtio 1.x §2.7).</summary>
/// <remarks>HW DATA, little-endian. Descriptor: addr u64 @0, len u32 @8, flags u16 @12, next u16 @14.
/// Available ring: flags u16, idx u16, ring[size] u16, used_event u16. Used ring: flags u16, idx u16,
/// ring[size] {id u32, len u32}, avail_event u16.</remarks>
public static class VirtqLayout
{
    public const int DescSize = 16;
    public const int UsedElemSize = 8;
    public const int MaxSize = 32768;

    public const ushort DescFlagNext = 1, DescFlagWrite = 2, DescFlagIndirect = 4;
    public const ushort AvailFlagNoInterrupt = 1, UsedFlagNoNotify = 1;

    public static int DescTableBytes(int size) => DescSize * size;

    public static int AvailBytes(int size) => 4 + 2 * size + 2;

    public static int UsedBytes(int size) => 4 + UsedElemSize * size + 2;

    /// <summary>True when <paramref name="size"/> is a valid split-queue size: a power of two, 1..32768.</summary>
    public static bool IsValidSize(int size) => size is > 0 and <= MaxSize && (size & (size - 1)) == 0;

    /// <summary>vring_need_event: notify when the new index has passed the other side's event index (virtio 1.x §2.7.10).</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) => (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);
}
