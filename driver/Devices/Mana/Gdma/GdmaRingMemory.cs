using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>A GDMA CQ's or EQ's pages as the device reaches them: through the VF's IOMMU domain, asked again at every entry.</summary>
internal readonly struct GdmaRingMemory(GdmaDmaRegion region) : IRingMemory
{
    public long Length => (long)region.Length;

    public Span<byte> Slice(long offset, int length, bool write) => region.Bytes(offset, length, write);
}
