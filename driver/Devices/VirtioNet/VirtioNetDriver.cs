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
    private readonly SplitVirtqueueDriver _rxq, _txq;
    private readonly int[] _rxSlotOf, _txSlotOf;

    private VirtioNetDriver(PciFunction function, VirtioCaps caps, SplitVirtqueueDriver rxq, SplitVirtqueueDriver txq, FramePool pool, ulong features, byte[] mac)
    {
        _function = function;
        _caps = caps;
        _rxq = rxq;
        _txq = txq;
        Pool = pool;
        Features = features;
        Mac = mac;
        _rxSlotOf = new int[rxq.Size];
        _txSlotOf = new int[txq.Size];
    }

    public FramePool Pool { get; }

    public ulong Features { get; }

    public byte[] Mac { get; }

    public long TxFrames { get; private set; }
    public long TxRingFull { get; private set; }
    public long RxFrames { get; private set; }
    /// <summary>Frames that arrived split over several buffers (too long for one slot): dropped by this driver.</summary>
    public long RxOversize { get; private set; }
    public long Kicks { get; private set; }

    /// <summary>Brings a virtio-net function up: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK, RX buffers.</summary>
    /// <param name="interrupts">MSI-X (vector 0 config, 1 RX, 2 TX) when true; the INTx line otherwise; none when null (polling).</param>
    public static VirtioNetDriver BringUp(PciFunction function, DmaMemory memory, DmaOwner owner, int queueSize = 256, bool? interrupts = null)
    {
        VirtioCaps caps = VirtioCaps.Open(function, VirtioPci.SubsystemNet, "virtio-net");
        ulong accepted = caps.Negotiate(WantedFeatures);
        bool eventIdx = (accepted & 1UL << VirtioPci.FeatureEventIdx) != 0;
        var queues = new SplitVirtqueueDriver[VirtioPci.QueueCount];
        for (ushort q = 0; q < VirtioPci.QueueCount; q++)
            queues[q] = caps.SetUpQueue(q, memory, owner, queueSize, eventIdx, interrupts == true ? (ushort)(q + 1) : VirtioPci.NoVector, interrupts is not null);
        if (interrupts == true) caps.EnableMsix(3);

        int poolSlots = queues[0].Size + queues[1].Size + 8 * FrameBurst.DefaultCapacity;
        DmaError pe = FramePool.TryCreate(memory, owner, poolSlots, 2048, VirtioPci.NetHdrSize, out FramePool pool);
        if (pe != DmaError.None) throw caps.Fail($"cannot allocate {poolSlots} frame buffers: {pe}");

        caps.DriverOk();

        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte)caps.ReadDevice(VirtioPci.NetMac + i, 1);
        var driver = new VirtioNetDriver(function, caps, queues[0], queues[1], pool, accepted, mac);
        driver.PostAllRx();
        return driver;
    }

    /// <summary>The device's status register (DEVICE_NEEDS_RESET shows a protocol fault).</summary>
    public byte DeviceStatus => _caps.ReadStatus();

    /// <summary>Link up, from the device config.</summary>
    public bool LinkUp => (_caps.ReadDevice(VirtioPci.NetStatus, 2) & VirtioPci.NetStatusLinkUp) != 0;

    /// <summary>Acknowledges an INTx interrupt: reads (and so clears) the ISR. Bit 0: a queue; bit 1: config changed.</summary>
    public byte AckInterrupt() => (byte)_caps.ReadIsr();

    private void PostAllRx()
    {
        while (_rxq.FreeCount > 0 && Pool.TryRent(out int slot)) PostRx(slot);
        Kick(_rxq, VirtioPci.RxQueue);
    }

    private void PostRx(int slot)
    {
        if (_rxq.TryAdd(Pool.Iova(slot), Pool.SlotSize, deviceWritable: true, out ushort head)) _rxSlotOf[head] = slot;
        else Pool.Return(slot);
    }

    private void Kick(SplitVirtqueueDriver q, int index)
    {
        if (!q.Publish()) return;
        Kicks++;
        _caps.Notify(index);
    }

    /// <summary>Sends the burst's frames; returns how many went (the rest stay, at the front). The burst gets fresh buffers.</summary>
    public int Tx(FrameBurst burst)
    {
        ReapTx();
        int sent = 0;
        for (; sent < burst.Count; sent++)
        {
            int slot = burst.Slot(sent);
            if (slot < 0) break;
            Span<byte> hdr = Pool.Slot(slot)[..VirtioPci.NetHdrSize];
            hdr.Clear();
            if (!_txq.TryAdd(Pool.Iova(slot), VirtioPci.NetHdrSize + burst.Length(sent), deviceWritable: false, out ushort head))
            {
                TxRingFull++;
                break;
            }
            _txSlotOf[head] = slot;
            burst.Set(sent, Pool.TryRent(out int fresh) ? fresh : -1, 0);
        }
        if (sent > 0) Kick(_txq, VirtioPci.TxQueue);
        TxFrames += sent;
        int left = burst.Count - sent;
        for (int i = 0; i < left; i++) // keep unsent frames at the front, in order
        {
            int s = burst.Slot(sent + i), l = burst.Length(sent + i);
            burst.Set(sent + i, burst.Slot(i), 0);
            burst.Set(i, s, l);
        }
        burst.Count = left;
        ReapTx();
        return sent;
    }

    private void ReapTx()
    {
        while (_txq.TryGetUsed(out ushort head, out _)) Pool.Return(_txSlotOf[head]);
    }

    /// <summary>Takes up to a burst of received frames; the burst's previous buffers go back to the device.</summary>
    public int RxPoll(FrameBurst burst)
    {
        int n = 0;
        while (n < burst.Capacity && _rxq.TryGetUsed(out ushort head, out uint len))
        {
            int slot = _rxSlotOf[head];
            ushort buffers = BinaryPrimitives.ReadUInt16LittleEndian(Pool.Slot(slot)[10..]);
            if (buffers != 1 || len < VirtioPci.NetHdrSize)
            {
                RxOversize++;
                PostRx(slot);
                continue;
            }
            int old = burst.Slot(n);
            if (old >= 0) PostRx(old);
            else if (Pool.TryRent(out int fresh)) PostRx(fresh);
            burst.Set(n, slot, (int)len - VirtioPci.NetHdrSize);
            n++;
        }
        burst.Count = n;
        RxFrames += n;
        Kick(_rxq, VirtioPci.RxQueue);
        return n;
    }

    /// <summary>Frames waiting in the RX used ring.</summary>
    public int RxPending => _rxq.UsedPending;

    /// <summary>Turns queue interrupts on or off (polling mode).</summary>
    public void SetInterrupts(bool enable)
    {
        _rxq.SetInterrupts(enable);
        _txq.SetInterrupts(enable);
    }

    /// <summary>Resets the device (status 0): queues stop, the device forgets the rings; then frees the rings and the frame pool.</summary>
    public void Shutdown(DmaMemory memory, DmaOwner owner)
    {
        _caps.WriteStatus(0);
        memory.Free(owner, _rxq.Rings);
        memory.Free(owner, _txq.Rings);
        memory.Free(owner, Pool.Region);
    }
}
