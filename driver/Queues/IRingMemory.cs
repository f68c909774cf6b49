namespace NicScript.Driver.Queues;

/// <summary>The memory under an <see cref="OwnerBitRing{TMemory}"/>: a driver's own DMA region, or a device's view of
/// queue pages through its IOMMU domain.</summary>
/// <remarks>
/// Design: implemented by structs only (the ring's type parameter is constrained to one), so the JIT compiles one ring per
/// memory kind and every <see cref="Slice"/> is a direct, inlinable call: no interface dispatch per entry.
/// </remarks>
internal interface IRingMemory
{
    /// <summary>Bytes of memory the ring may use.</summary>
    long Length { get; }

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/>, or empty when the memory is gone or not
    /// reachable now (for a device, a counted DMA fault). <paramref name="write"/> says whether the caller writes them.</summary>
    Span<byte> Slice(long offset, int length, bool write);
}
