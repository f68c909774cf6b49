using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>A virtio-net driver over a PCI function: brings the NIC up register by register, then moves bursts.</summary>
/// <remarks>
/// Design: it knows the device only through configuration space, BAR registers, DMA memory and interrupts — what a
/// kernel driver has — so it drives any virtio-net function, ours or (in principle) another. One <see cref="FramePool"/>
/// feeds RX and TX, so a received frame can be sent on without a copy. <see cref="Tx"/> posts a burst, rings the
/// doorbell once (if the device asked for it) and reaps TX completions; <see cref="RxPoll"/> reaps RX completions
/// into a burst and reposts the burst's old buffers. Not thread-safe: one V-Node loop drives a NIC.
/// </remarks>
public sealed class VirtioNetDriver
{
    public const ulong WantedFeatures = 1UL << VirtioPci.FeatureVersion1 | 1UL << VirtioPci.FeatureMac | 1UL << VirtioPci.FeatureStatus |
        1UL << VirtioPci.FeatureMrgRxbuf | 1UL << VirtioPci.FeatureEventIdx | 1UL << VirtioPci.FeatureIndirectDesc | 1UL << VirtioPci.FeatureMtu;

    private readonly PciFunction _function;
    private readonly VirtioCaps _caps;
    private readonly SplitVirtqueueDriver[] _rxqs, _txqs;
    // Which pool slot each descriptor head carries, per queue: pinned, read through pointers on the frame path (a head
    // is always one the queue handed out, below its size).
    private readonly int[][] _rxSlotOf, _txSlotOf;
    private readonly unsafe int*[] _rxSlotOfP, _txSlotOfP;
    private readonly SplitVirtqueueDriver? _ctrl;
    private readonly DmaRegion? _ctrlBuffer;
    private DmaAttachment? _dma;

    private VirtioNetDriver(PciFunction function, VirtioCaps caps, SplitVirtqueueDriver[] rxqs, SplitVirtqueueDriver[] txqs, SplitVirtqueueDriver? ctrl,
        DmaRegion? ctrlBuffer, FramePool pool, ulong features, byte[] mac)
    {
        _function = function;
        _caps = caps;
        _rxqs = rxqs;
        _txqs = txqs;
        _ctrl = ctrl;
        _ctrlBuffer = ctrlBuffer;
        Pool = pool;
        Features = features;
        Mac = mac;
        _rxSlotOf = rxqs.Select(q => GC.AllocateArray<int>(q.Size, pinned: true)).ToArray();
        _txSlotOf = txqs.Select(q => GC.AllocateArray<int>(q.Size, pinned: true)).ToArray();
        unsafe
        {
            _rxSlotOfP = new int*[rxqs.Length];
            _txSlotOfP = new int*[txqs.Length];
            for (int p = 0; p < rxqs.Length; p++) _rxSlotOfP[p] = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_rxSlotOf[p]));
            for (int p = 0; p < txqs.Length; p++) _txSlotOfP[p] = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_txSlotOf[p]));
        }
    }

    public FramePool Pool { get; }

    public ulong Features { get; }

    public byte[] Mac { get; }

    /// <summary>Queue pairs this driver set up (and, with MQ, asked the device to use).</summary>
    public int Pairs => _rxqs.Length;

    public long TxFrames { get; private set; }
    public long TxRingFull { get; private set; }
    public long RxFrames { get; private set; }
    /// <summary>Frames that arrived split over several buffers (too long for one slot): dropped by this driver.</summary>
    public long RxOversize { get; private set; }
    public long Kicks { get; private set; }

    /// <summary>Brings a virtio-net function up: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK, RX buffers.</summary>
    /// <param name="interrupts">MSI-X (vector 0 config, then RX and TX of each pair) when true; the INTx line otherwise; none when null (polling).</param>
    /// <param name="pairs">Queue pairs to use; more than one needs the device's MQ (and sends VQ_PAIRS_SET on the control queue).</param>
    /// <param name="multiqueue">Negotiate MQ and the control queue even for one pair (when the device offers them).</param>
    public static VirtioNetDriver BringUp(PciFunction function, DmaMemory memory, DmaOwner owner, int queueSize = 256, bool? interrupts = null,
        int pairs = 1, bool multiqueue = false)
    {
        VirtioCaps caps = VirtioCaps.Open(function, VirtioPci.SubsystemNet, "virtio-net");
        DmaAttachment dma = caps.AttachDma(owner); // the device reaches what this owner holds, until Shutdown
        try
        {
            VirtioNetDriver driver = BringUp(function, caps, memory, owner, queueSize, interrupts, pairs, multiqueue);
            driver._dma = dma;
            return driver;
        }
        catch
        {
            dma.Dispose();
            throw;
        }
    }

    private static VirtioNetDriver BringUp(PciFunction function, VirtioCaps caps, DmaMemory memory, DmaOwner owner, int queueSize, bool? interrupts,
        int pairs, bool multiqueue)
    {
        const ulong Mq = 1UL << VirtioPci.FeatureMq | 1UL << VirtioPci.FeatureCtrlVq;
        bool wantMq = multiqueue || pairs > 1;
        ulong accepted = caps.Negotiate(WantedFeatures | (wantMq ? Mq : 0));
        bool mq = (accepted & Mq) == Mq;
        if (pairs < 1 || (pairs > 1 && !mq)) throw caps.Fail($"{pairs} queue pairs need the device's MQ and control queue");
        int maxPairs = mq ? (int)caps.ReadDevice(VirtioPci.NetMaxPairs, 2) : 1;
        if (pairs > maxPairs) throw caps.Fail($"{pairs} queue pairs asked, the device offers {maxPairs}");
        bool eventIdx = (accepted & 1UL << VirtioPci.FeatureEventIdx) != 0;
        var rx = new SplitVirtqueueDriver[pairs];
        var tx = new SplitVirtqueueDriver[pairs];
        for (int p = 0; p < pairs; p++)
        {
            rx[p] = caps.SetUpQueue((ushort)(2 * p), memory, owner, queueSize, eventIdx, interrupts == true ? (ushort)(2 * p + 1) : VirtioPci.NoVector, interrupts is not null);
            tx[p] = caps.SetUpQueue((ushort)(2 * p + 1), memory, owner, queueSize, eventIdx, interrupts == true ? (ushort)(2 * p + 2) : VirtioPci.NoVector, interrupts is not null);
        }
        SplitVirtqueueDriver? ctrl = null;
        DmaRegion? ctrlBuffer = null;
        if (mq)
        {
            ctrl = caps.SetUpQueue((ushort)(2 * maxPairs), memory, owner, 16, eventIdx: false, VirtioPci.NoVector, interrupts: false);
            if (memory.TryAllocate(owner, 64, out DmaRegion buffer) != DmaError.None) throw caps.Fail("cannot allocate the control queue's buffer");
            ctrlBuffer = buffer;
        }
        if (interrupts == true) caps.EnableMsix(2 * pairs + 1);

        int poolSlots = rx.Sum(q => q.Size) + tx.Sum(q => q.Size) + 8 * FrameBurst.DefaultCapacity;
        int mtu = (accepted & 1UL << VirtioPci.FeatureMtu) != 0 ? (int)caps.ReadDevice(VirtioPci.NetMtu, 2) : StandardMtu;
        DmaError pe = FramePool.TryCreate(memory, owner, poolSlots, SlotSizeFor(mtu), VirtioPci.NetHdrSize, out FramePool pool);
        if (pe != DmaError.None) throw caps.Fail($"cannot allocate {poolSlots} frame buffers: {pe}");

        caps.DriverOk();

        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte)caps.ReadDevice(VirtioPci.NetMac + i, 1);
        var driver = new VirtioNetDriver(function, caps, rx, tx, ctrl, ctrlBuffer, pool, accepted, mac);
        if (pairs > 1) driver.SetPairs(pairs);
        for (int p = 0; p < pairs; p++) driver.PostAllRx(p);
        return driver;
    }

    /// <summary>The MTU a device without VIRTIO_NET_F_MTU is driven at (ETH_DATA_LEN).</summary>
    public const int StandardMtu = 1500;

    /// <summary>
    /// A frame buffer's size for <paramref name="mtu"/>: 2 KiB up to the standard MTU, else the header, the MTU and an
    /// Ethernet header with a VLAN tag, rounded up to 1 KiB. Linux's virtio_net sizes its "big packets" receive buffers from
    /// the config MTU the same way (<c>virtnet_set_big_packets</c>); one slot per frame keeps what was received sendable as
    /// it is, so a jumbo MTU gets jumbo slots rather than frames merged from several buffers.
    /// </summary>
    public static int SlotSizeFor(int mtu) => Math.Max(2048, (VirtioPci.NetHdrSize + mtu + 18 + 1023) & ~1023);

    /// <summary>VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET on the control queue; the device answers at once (its doorbell is served inline).</summary>
    private void SetPairs(int pairs)
    {
        Span<byte> cmd = _ctrlBuffer!.TryGetSpan(_ctrlBuffer.Owner!, 0, 5, true, out Span<byte> s) == DmaError.None ? s : throw new VirtioDriverException("control buffer gone");
        cmd[0] = VirtioPci.CtrlMq;
        cmd[1] = VirtioPci.CtrlMqVqPairsSet;
        BinaryPrimitives.WriteUInt16LittleEndian(cmd[2..], (ushort)pairs);
        cmd[4] = 0xFF;
        ulong iova = _ctrlBuffer.Iova;
        if (!_ctrl!.TryAddChain([iova, iova + 2, iova + 4], [2, 2, 1], [false, false, true], out _)) throw _caps.Fail("control queue full");
        if (_ctrl.Publish()) _caps.Notify(ControlQueueIndex);
        if (!_ctrl.TryGetUsed(out _, out _) || cmd[4] != VirtioPci.CtrlOk) throw _caps.Fail($"the device refused {pairs} queue pairs (ack {cmd[4]})");
    }

    private int ControlQueueIndex => 2 * (int)_caps.ReadDevice(VirtioPci.NetMaxPairs, 2);

    /// <summary>The device's status register (DEVICE_NEEDS_RESET shows a protocol fault).</summary>
    public byte DeviceStatus => _caps.ReadStatus();

    /// <summary>The MTU in the device config (VIRTIO_NET_F_MTU), read each time: a host-side change shows at once.</summary>
    public int ConfigMtu => (int)_caps.ReadDevice(VirtioPci.NetMtu, 2);

    /// <summary>Link up, from the device config.</summary>
    public bool LinkUp => (_caps.ReadDevice(VirtioPci.NetStatus, 2) & VirtioPci.NetStatusLinkUp) != 0;

    /// <summary>Acknowledges an INTx interrupt: reads (and so clears) the ISR. Bit 0: a queue; bit 1: config changed.</summary>
    public byte AckInterrupt() => (byte)_caps.ReadIsr();

    private void PostAllRx(int pair)
    {
        SplitVirtqueueDriver q = _rxqs[pair];
        while (q.FreeCount > 0 && Pool.TryRent(out int slot)) PostRx(pair, slot);
        Kick(q, 2 * pair);
    }

    private unsafe void PostRx(int pair, int slot) => PostRx(_rxqs[pair], _rxSlotOfP[pair], Pool.Region.Iova, Pool.SlotSize, slot);

    private void Kick(SplitVirtqueueDriver q, int index)
    {
        if (!q.Publish()) return;
        Kicks++;
        _caps.Notify(index);
    }

    /// <summary>Sends the burst's frames on <paramref name="pair"/>'s transmit queue; returns how many went (the rest stay, at
    /// the front). The burst gets fresh buffers.</summary>
    public unsafe int Tx(FrameBurst burst, int pair = 0)
    {
        SplitVirtqueueDriver txq = _txqs[pair];
        int* slotOf = _txSlotOfP[pair];
        FramePool pool = Pool;
        ReapTx(txq, slotOf);
        int[] slots = burst.Slots, lengths = burst.Lengths;
        int count = Math.Min(burst.Count, slots.Length), sent = 0;
        byte* block = pool.Block; // null: the pool was freed under us, nothing can go
        if (block is not null)
        {
            // Per burst: the pool's base, IOVA and slot size in registers; per frame: one slot check, the header, one
            // descriptor, one rent. Positions below count are within the arrays (checked above).
            ulong iova0 = pool.Region.Iova;
            int slotSize = pool.SlotSize;
            ref int slot0 = ref MemoryMarshal.GetArrayDataReference(slots);
            ref int length0 = ref MemoryMarshal.GetArrayDataReference(lengths);
            for (; sent < count; sent++)
            {
                int slot = Unsafe.Add(ref slot0, sent);
                if (slot < 0) break;
                pool.CheckSlot(slot);
                byte* hdr = block + (nint)slot * slotSize;
                *(ulong*)hdr = 0; // virtio_net_hdr: no checksum offload, no GSO, num_buffers 0
                *(uint*)(hdr + 8) = 0;
                if (!txq.TryAdd(iova0 + (ulong)slot * (ulong)slotSize, VirtioPci.NetHdrSize + Unsafe.Add(ref length0, sent), deviceWritable: false, out ushort head))
                {
                    TxRingFull++;
                    break;
                }
                slotOf[head] = slot; // head comes from the queue's free list: below its size
                Unsafe.Add(ref slot0, sent) = -1; // refilled below, after the doorbell
                Unsafe.Add(ref length0, sent) = 0;
            }
        }
        if (sent > 0) Kick(txq, 2 * pair + 1);
        TxFrames += sent;
        int left = count - sent;
        for (int i = 0; i < left; i++) // keep unsent frames at the front, in order
        {
            (slots[i], slots[sent + i]) = (slots[sent + i], slots[i]);
            (lengths[i], lengths[sent + i]) = (lengths[sent + i], 0);
        }
        burst.Count = left;
        // The sent positions (now the last ones up to count) get buffers: first those the device just completed (a device
        // that sends at once, as the loopback, completes this very burst), reused without a trip through the free list as
        // DPDK's mempool cache does; then fresh ones from the pool. The rest of what was completed goes back to the pool.
        int fill = left;
        while (txq.TryGetUsed(out ushort done, out _)) // a used id is one the queue gave out: below its size
        {
            int slot = slotOf[done];
            if (slot < 0) continue; // TxRaw's: not the pool's
            if (fill < count && pool.TryReuse(slot)) slots[fill++] = slot;
            else pool.Return(slot);
        }
        for (; fill < count; fill++)
            if (pool.TryRent(out int fresh)) slots[fill] = fresh;
            else
            {
                slots[fill] = -1;
                burst.MarkHoles();
            }
        return sent;
    }

    /// <summary>Posts one transmit buffer as it is — <paramref name="length"/> bytes at <paramref name="iova"/>, the 12-byte
    /// virtio-net header first — and rings the doorbell: a frame the caller placed in its own DMA memory, or a bad
    /// address to see what a device does with it. False when the ring is full.</summary>
    public bool TxRaw(ulong iova, int length, int pair = 0)
    {
        ReapTx(pair);
        SplitVirtqueueDriver txq = _txqs[pair];
        if (!txq.TryAdd(iova, length, deviceWritable: false, out ushort head)) return false;
        _txSlotOf[pair][head] = -1; // no pool slot to give back
        Kick(txq, 2 * pair + 1);
        ReapTx(pair);
        return true;
    }

    private unsafe void ReapTx(int pair) => ReapTx(_txqs[pair], _txSlotOfP[pair]);

    private unsafe void ReapTx(SplitVirtqueueDriver txq, int* slotOf)
    {
        FramePool pool = Pool;
        while (txq.TryGetUsed(out ushort head, out _)) // a used id is one the queue gave out: below its size
            if (slotOf[head] is var slot && slot >= 0) pool.Return(slot);
    }

    /// <summary>Takes up to a burst of frames received on <paramref name="pair"/>'s receive queue; the burst's previous
    /// buffers go back to the device.</summary>
    public unsafe int RxPoll(FrameBurst burst, int pair = 0)
    {
        SplitVirtqueueDriver rxq = _rxqs[pair];
        int* slotOf = _rxSlotOfP[pair];
        FramePool pool = Pool;
        int[] slots = burst.Slots, lengths = burst.Lengths;
        int n = 0, capacity = slots.Length;
        byte* block = pool.Block;
        if (block is not null)
        {
            ulong iova0 = pool.Region.Iova;
            int slotSize = pool.SlotSize;
            ref int slot0 = ref MemoryMarshal.GetArrayDataReference(slots);
            ref int length0 = ref MemoryMarshal.GetArrayDataReference(lengths);
            while (n < capacity && rxq.TryGetUsed(out ushort head, out uint len))
            {
                int slot = slotOf[head]; // a used id is one the queue gave out, and PostRx recorded a pool slot for it
                byte* hdr = block + (nint)slot * slotSize;
                if (*(ushort*)(hdr + 10) != 1 || len < VirtioPci.NetHdrSize || len > (uint)slotSize) // num_buffers: more than one slot; or a length the slot cannot hold
                {
                    RxOversize++;
                    PostRx(rxq, slotOf, iova0, slotSize, slot);
                    continue;
                }
                int old = Unsafe.Add(ref slot0, n);
                if (old >= 0)
                {
                    pool.CheckSlot(old);
                    PostRx(rxq, slotOf, iova0, slotSize, old);
                }
                else if (pool.TryRent(out int fresh)) PostRx(rxq, slotOf, iova0, slotSize, fresh);
                Unsafe.Add(ref slot0, n) = slot;
                Unsafe.Add(ref length0, n) = (int)len - VirtioPci.NetHdrSize;
                n++;
            }
        }
        burst.Count = n;
        RxFrames += n;
        Kick(rxq, 2 * pair);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PostRx(SplitVirtqueueDriver rxq, int* slotOf, ulong iova0, int slotSize, int slot)
    {
        if (rxq.TryAdd(iova0 + (ulong)slot * (ulong)slotSize, slotSize, deviceWritable: true, out ushort head)) slotOf[head] = slot;
        else Pool.Return(slot);
    }

    /// <summary>Frames waiting in the RX used ring.</summary>
    public int RxPending => _rxqs[0].UsedPending;

    /// <summary>Frames waiting in <paramref name="pair"/>'s RX used ring.</summary>
    public int RxPendingOn(int pair) => _rxqs[pair].UsedPending;

    /// <summary>Turns queue interrupts on or off (polling mode).</summary>
    public void SetInterrupts(bool enable)
    {
        foreach (SplitVirtqueueDriver q in _rxqs.Concat(_txqs)) q.SetInterrupts(enable);
    }

    /// <summary>Resets the device (status 0): queues stop, the device forgets the rings; then frees the rings and the frame pool.</summary>
    public void Shutdown(DmaMemory memory, DmaOwner owner)
    {
        _caps.WriteStatus(0);
        _dma?.Dispose(); // the device no longer reaches this owner's memory
        foreach (SplitVirtqueueDriver q in _rxqs.Concat(_txqs)) memory.Free(owner, q.Rings);
        if (_ctrl is not null) memory.Free(owner, _ctrl.Rings);
        if (_ctrlBuffer is not null) memory.Free(owner, _ctrlBuffer);
        memory.Free(owner, Pool.Region);
    }
}
