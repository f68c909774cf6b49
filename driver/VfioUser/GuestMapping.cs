using NicScript.Driver.Memory;

namespace NicScript.Driver.VfioUser;

/// <summary>One <c>DMA_MAP</c> a vfio-user client made: the guest range, where its bytes are in this process (0 for memory the
/// client passed no fd for: recorded, never reachable) and the DMA regions the device reaches it through.</summary>
public sealed record GuestMapping(ulong Iova, ulong Size, ulong FileOffset, bool Writable, nint Base, DmaRegion[] Regions)
{
    public bool Reachable => Base != 0;

    public bool Overlaps(ulong iova, ulong size) => iova < Iova + Size && Iova < iova + size;
}
