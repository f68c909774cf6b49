namespace NicScript.Driver.Devices.Dpu;

/// <summary>A host vport's or SoC port's counters (reference/dpu.md §5.4), seen from the host: rx = DPU → host, tx = host →
/// DPU. The tx side is written by the port's own ingress (under the switch's lock); the rx side by any ingress delivering
/// here, cables included, so atomically (once per burst); read anywhere. Bytes are the frame from destination MAC to the end of the
/// payload, tags included, no FCS.</summary>
public sealed class DpuPortCounters
{
    internal long RxPackets, RxBytes, RxDrop, RxError, TxPackets, TxBytes, TxDrop, TxError;

    public long RxPacketsCount => Volatile.Read(ref RxPackets);
    public long RxBytesCount => Volatile.Read(ref RxBytes);
    public long RxDropCount => Volatile.Read(ref RxDrop);
    public long RxErrorCount => Volatile.Read(ref RxError);
    public long TxPacketsCount => Volatile.Read(ref TxPackets);
    public long TxBytesCount => Volatile.Read(ref TxBytes);
    public long TxDropCount => Volatile.Read(ref TxDrop);
    public long TxErrorCount => Volatile.Read(ref TxError);
}

/// <summary>An optical port's counters with DPDK's <c>rte_eth_stats</c> meaning, per queue as well. The input side is
/// written by the cable's ingress (atomically, once per burst: it holds no lock); the output side under the switch's lock.</summary>
public sealed class DpuOpticalCounters(int queues)
{
    internal long IPackets, IBytes, IMissed, IErrors, OPackets, OBytes, OErrors;
    internal readonly long[] QIPackets = new long[queues], QIBytes = new long[queues], QOPackets = new long[queues], QOBytes = new long[queues],
        QErrors = new long[queues];

    public int Queues => QIPackets.Length;
    public long IPacketsCount => Volatile.Read(ref IPackets);
    public long IBytesCount => Volatile.Read(ref IBytes);
    public long IMissedCount => Volatile.Read(ref IMissed);
    public long IErrorsCount => Volatile.Read(ref IErrors);
    public long OPacketsCount => Volatile.Read(ref OPackets);
    public long OBytesCount => Volatile.Read(ref OBytes);
    public long OErrorsCount => Volatile.Read(ref OErrors);
    public long[] QIPacketsCounts => Read(QIPackets);
    public long[] QIBytesCounts => Read(QIBytes);
    public long[] QOPacketsCounts => Read(QOPackets);
    public long[] QOBytesCounts => Read(QOBytes);
    public long[] QErrorsCounts => Read(QErrors);

    private static long[] Read(long[] a)
    {
        var copy = new long[a.Length];
        for (int i = 0; i < a.Length; i++) copy[i] = Volatile.Read(ref a[i]);
        return copy;
    }
}
