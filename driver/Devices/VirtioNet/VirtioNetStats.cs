using NicScript.Driver.Devices.Virtio;
namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>What a virtio-net device counted. Updated by the device only (data-path counters under its TX or RX lock); read anywhere.</summary>
public sealed class VirtioNetStats : VirtioTransportStats
{
    internal long TxPackets, TxBytes, TxErrors, RxPackets, RxBytes, RxDropped, RxErrors;

    public long TxPacketsCount => Volatile.Read(ref TxPackets);
    public long TxBytesCount => Volatile.Read(ref TxBytes);
    public long TxErrorsCount => Volatile.Read(ref TxErrors);
    public long RxPacketsCount => Volatile.Read(ref RxPackets);
    public long RxBytesCount => Volatile.Read(ref RxBytes);
    /// <summary>Frames from the wire with no receive buffer posted.</summary>
    public long RxDroppedCount => Volatile.Read(ref RxDropped);
    public long RxErrorsCount => Volatile.Read(ref RxErrors);
}
