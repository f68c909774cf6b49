namespace NicScript.Driver.Memory;

/// <summary>The addresses one PCI function's device reads and writes through (its DMA space), as the device model sees them.</summary>
/// <remarks>
/// Design: the device-model contract names this, not <see cref="DmaMemory"/>, so the same model can be served a memory
/// it does not own (a guest's RAM mapped from vfio-user fds) or, as today, our DMA memory seen through the function's
/// <see cref="IommuDomain"/>. The devices' per-frame paths keep calling their sealed <see cref="IommuDomain"/> directly
/// (no interface dispatch per frame); this interface is for what binds to a device from outside its family.
/// </remarks>
public interface IDmaSpace
{
    /// <summary>The function's address, as faults name it.</summary>
    string Function { get; }

    /// <summary>DMA faults the function's device has made.</summary>
    long Faults { get; }

    /// <summary>The device's access to [<paramref name="iova"/>, +<paramref name="length"/>): the bytes, or a DMA fault (counted, reported).</summary>
    DmaError TryResolve(ulong iova, int length, bool write, out Span<byte> span);

    /// <summary>Device read: copies the bytes at <paramref name="iova"/> into <paramref name="destination"/>.</summary>
    DmaError TryRead(ulong iova, Span<byte> destination);

    /// <summary>Device write: copies <paramref name="source"/> to <paramref name="iova"/>.</summary>
    DmaError TryWrite(ulong iova, ReadOnlySpan<byte> source);
}
