namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>What a virtio-net device counted. Updated by the device only; read anywhere.</summary>
public sealed class VirtioNetStats
{
    internal long TxPackets, TxBytes, TxErrors, RxPackets, RxBytes, RxDropped, RxErrors, Notifies, Interrupts, Resets;

    public long TxPacketsCount => Interlocked.Read(ref TxPackets);
    public long TxBytesCount => Interlocked.Read(ref TxBytes);
    public long TxErrorsCount => Interlocked.Read(ref TxErrors);
    public long RxPacketsCount => Interlocked.Read(ref RxPackets);
    public long RxBytesCount => Interlocked.Read(ref RxBytes);
    /// <summary>Frames from the wire with no receive buffer posted.</summary>
    public long RxDroppedCount => Interlocked.Read(ref RxDropped);
    public long RxErrorsCount => Interlocked.Read(ref RxErrors);
    public long NotifiesCount => Interlocked.Read(ref Notifies);
    public long InterruptsCount => Interlocked.Read(ref Interrupts);
    public long ResetsCount => Interlocked.Read(ref Resets);
}
