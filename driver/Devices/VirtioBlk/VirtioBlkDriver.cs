using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Text;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.VirtioBlk;

/// <summary>A virtio-blk driver over a PCI function: brings the disk up register by register, then reads, writes, flushes.</summary>
/// <remarks>
/// Design: it knows the device only through configuration space, BAR registers and DMA memory, like the net driver. Each
/// queue has a fixed set of request slots; a slot is three descriptors — the 16-byte header (device-readable), the slot's
/// own data buffer, the status byte (device-writable) — so posting a request allocates nothing. <see cref="TrySubmit"/> /
/// <see cref="TryComplete"/> are the asynchronous pair (a test or script can post while the disk is paused and reap
/// later); <see cref="Read"/>, <see cref="Write"/>, <see cref="Flush"/> and <see cref="GetId"/> post one request and wait
/// for it. Not thread-safe: one V-Node loop drives a disk.
/// </remarks>
public sealed class VirtioBlkDriver
{
    public const ulong WantedFeatures = 1UL << VirtioPci.FeatureVersion1 | 1UL << VirtioBlk.FeatureFlush | 1UL << VirtioBlk.FeatureMq;

    /// <summary>The largest data part of one request this driver posts.</summary>
    public const int MaxTransfer = 64 * 1024;

    private const int HeaderSlot = 32; // header (16) and status (1), aligned

    private readonly PciFunction _function;
    private readonly VirtioCaps _caps;
    private readonly Queue[] _queues;
    private DmaAttachment? _dma;

    private sealed class Queue(SplitVirtqueueDriver ring, DmaRegion headers, DmaRegion data, int slots)
    {
        public readonly SplitVirtqueueDriver Ring = ring;
        public readonly DmaRegion Headers = headers, Data = data;
        public readonly int[] SlotOfHead = new int[ring.Size];
        public readonly Stack<int> Free = new(Enumerable.Range(0, slots).Reverse());
        public readonly int Slots = slots;
    }

    private VirtioBlkDriver(PciFunction function, VirtioCaps caps, Queue[] queues, ulong features)
    {
        _function = function;
        _caps = caps;
        _queues = queues;
        Features = features;
    }

    public ulong Features { get; }

    public int QueueCount => _queues.Length;

    /// <summary>Request slots per queue.</summary>
    public int SlotsPerQueue => _queues[0].Slots;

    /// <summary>Brings a virtio-blk function up: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK.</summary>
    /// <param name="queues">How many request queues to enable (at most the device's num_queues; more than one needs MQ).</param>
    public static VirtioBlkDriver BringUp(PciFunction function, DmaMemory memory, DmaOwner owner, int queues = 1, int queueSize = 128)
    {
        VirtioCaps caps = VirtioCaps.Open(function, VirtioBlk.SubsystemBlk, "virtio-blk");
        DmaAttachment dma = caps.AttachDma(owner); // the device reaches what this owner holds, until Shutdown
        try
        {
            VirtioBlkDriver driver = BringUp(function, caps, memory, owner, queues, queueSize);
            driver._dma = dma;
            return driver;
        }
        catch
        {
            dma.Dispose();
            throw;
        }
    }

    private static VirtioBlkDriver BringUp(PciFunction function, VirtioCaps caps, DmaMemory memory, DmaOwner owner, int queues, int queueSize)
    {
        ulong accepted = caps.Negotiate(WantedFeatures);
        int deviceQueues = (accepted & 1UL << VirtioBlk.FeatureMq) != 0 ? (int)caps.ReadDevice(VirtioBlk.ConfigNumQueues, 2) : 1;
        if (queues < 1 || queues > deviceQueues) throw caps.Fail($"{queues} queues asked, the device has {deviceQueues}");
        var made = new Queue[queues];
        for (ushort q = 0; q < queues; q++)
        {
            SplitVirtqueueDriver ring = caps.SetUpQueue(q, memory, owner, queueSize, eventIdx: false, VirtioPci.NoVector, interrupts: false);
            int slots = Math.Min(ring.Size / 3, 32);
            if (slots == 0) throw caps.Fail($"queue {q}: {ring.Size} entries cannot hold one request of three descriptors");
            if (memory.TryAllocate(owner, slots * HeaderSlot, out DmaRegion headers) != DmaError.None ||
                memory.TryAllocate(owner, slots * MaxTransfer, out DmaRegion data) != DmaError.None)
                throw caps.Fail($"queue {q}: cannot allocate {slots} request buffers");
            made[q] = new Queue(ring, headers, data, slots);
        }
        caps.DriverOk();
        return new VirtioBlkDriver(function, caps, made, accepted);
    }

    /// <summary>The device's status register.</summary>
    public byte DeviceStatus => _caps.ReadStatus();

    /// <summary>Capacity in 512-byte sectors, read from the device configuration.</summary>
    public ulong Capacity => _caps.ReadDevice(VirtioBlk.ConfigCapacity, 8);

    /// <summary>Reads (and so clears) the ISR: bit 0 a queue, bit 1 the configuration changed.</summary>
    public byte AckInterrupt() => (byte)_caps.ReadIsr();

    /// <summary>A slot's data buffer (fill it before submitting a write; read it after a read completes).</summary>
    public Span<byte> Data(int queue, int tag) => _queues[queue].Data.TryGetSpan(_queues[queue].Data.Owner!, tag * MaxTransfer, MaxTransfer, true, out Span<byte> s) == DmaError.None ? s : default;

    /// <summary>Posts one request on <paramref name="queue"/> and rings the doorbell; false when every slot is in use.</summary>
    /// <param name="dataLength">Bytes of the slot's data buffer the request carries (0 for FLUSH).</param>
    public bool TrySubmit(int queue, uint type, ulong sector, int dataLength, out int tag)
    {
        Queue q = _queues[queue];
        tag = -1;
        if (dataLength is < 0 or > MaxTransfer) throw new ArgumentOutOfRangeException(nameof(dataLength), $"0..{MaxTransfer} bytes");
        if (!q.Free.TryPop(out int slot)) return false;
        Span<byte> h = HeaderOf(q, slot);
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], sector);
        h[VirtioBlk.HeaderSize] = 0xFF; // the device overwrites it
        bool deviceWrites = type is VirtioBlk.TypeIn or VirtioBlk.TypeGetId;
        ulong header = q.Headers.Iova + (ulong)(slot * HeaderSlot);
        Span<ulong> iovas = stackalloc ulong[3];
        Span<int> lengths = stackalloc int[3];
        Span<bool> writable = stackalloc bool[3];
        int n = 0;
        iovas[n] = header; lengths[n] = VirtioBlk.HeaderSize; writable[n++] = false;
        if (dataLength > 0) { iovas[n] = q.Data.Iova + (ulong)(slot * MaxTransfer); lengths[n] = dataLength; writable[n++] = deviceWrites; }
        iovas[n] = header + VirtioBlk.HeaderSize; lengths[n] = 1; writable[n++] = true;
        if (!q.Ring.TryAddChain(iovas[..n], lengths[..n], writable[..n], out ushort head))
        {
            q.Free.Push(slot);
            return false;
        }
        q.SlotOfHead[head] = slot;
        tag = slot;
        if (q.Ring.Publish()) _caps.Notify(queue);
        return true;
    }

    /// <summary>Takes one completed request of <paramref name="queue"/>: its tag and the status the device wrote.</summary>
    public bool TryComplete(int queue, out int tag, out byte status)
    {
        Queue q = _queues[queue];
        tag = -1;
        status = 0xFF;
        if (!q.Ring.TryGetUsed(out ushort head, out _)) return false;
        tag = q.SlotOfHead[head];
        status = HeaderOf(q, tag)[VirtioBlk.HeaderSize];
        q.Free.Push(tag);
        return true;
    }

    /// <summary>Requests waiting for completion on <paramref name="queue"/> (posted, not yet reaped).</summary>
    public int InFlight(int queue) => _queues[queue].Slots - _queues[queue].Free.Count;

    private static Span<byte> HeaderOf(Queue q, int slot) =>
        q.Headers.TryGetSpan(q.Headers.Owner!, slot * HeaderSlot, HeaderSlot, true, out Span<byte> s) == DmaError.None ? s : default;

    /// <summary>Reads <paramref name="into"/>.Length bytes (whole sectors) from <paramref name="sector"/>; returns the status.</summary>
    public byte Read(ulong sector, Span<byte> into, int queue = 0)
    {
        byte status = Run(queue, VirtioBlk.TypeIn, sector, into.Length, default, out int tag);
        if (status == VirtioBlk.StatusOk) Data(queue, tag)[..into.Length].CopyTo(into);
        return status;
    }

    /// <summary>Writes <paramref name="data"/> (whole sectors) at <paramref name="sector"/>; returns the status.</summary>
    public byte Write(ulong sector, ReadOnlySpan<byte> data, int queue = 0) => Run(queue, VirtioBlk.TypeOut, sector, data.Length, data, out _);

    /// <summary>FLUSH: once it completes OK, what was written is on stable storage.</summary>
    public byte Flush(int queue = 0) => Run(queue, VirtioBlk.TypeFlush, 0, 0, default, out _);

    /// <summary>GET_ID: the disk's serial (at most 20 bytes, NUL padding dropped).</summary>
    public string GetId(int queue = 0)
    {
        byte status = Run(queue, VirtioBlk.TypeGetId, 0, VirtioBlk.IdBytes, default, out int tag);
        if (status != VirtioBlk.StatusOk) throw new VirtioDriverException($"{_function.Address}: GET_ID failed with {VirtioBlk.StatusName(status)}");
        ReadOnlySpan<byte> id = Data(queue, tag)[..VirtioBlk.IdBytes];
        int end = id.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? id : id[..end]);
    }

    private byte Run(int queue, uint type, ulong sector, int length, ReadOnlySpan<byte> payload, out int tag)
    {
        Queue q = _queues[queue];
        if (q.Free.Count != q.Slots) throw new VirtioDriverException($"{_function.Address}: queue {queue} has requests in flight; reap them first");
        if (!q.Free.TryPeek(out int next)) throw new VirtioDriverException($"{_function.Address}: queue {queue} has no free slot");
        if (!payload.IsEmpty) payload.CopyTo(Data(queue, next));
        if (!TrySubmit(queue, type, sector, length, out tag)) throw new VirtioDriverException($"{_function.Address}: queue {queue} is full");
        // The device serves a doorbell at once; a request that did not complete means the disk is paused or gone.
        if (!TryComplete(queue, out int done, out byte status) || done != tag)
            throw new VirtioDriverException($"{_function.Address}: request did not complete (disk paused or removed)");
        return status;
    }

    /// <summary>Resets the device (status 0), then frees the rings and buffers.</summary>
    public void Shutdown(DmaMemory memory, DmaOwner owner)
    {
        _caps.WriteStatus(0);
        _dma?.Dispose(); // the device no longer reaches this owner's memory
        foreach (Queue q in _queues)
        {
            memory.Free(owner, q.Ring.Rings);
            memory.Free(owner, q.Headers);
            memory.Free(owner, q.Data);
        }
    }
}
