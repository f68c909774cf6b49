using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.VirtioNet;

public sealed partial class VirtioNetDevice
{
    /// <summary>A doorbell: the driver wrote queue <paramref name="queue"/>'s index to the notify area.</summary>
    protected override void OnNotify(int queue)
    {
        if (Negotiated(VirtioPci.FeatureCtrlVq) && queue == CtrlIndex)
        {
            ProcessCtrl();
            return;
        }
        if (queue % 2 == 0) return; // a receive queue's notify only says buffers were added: frames are not held back
        if (TxDoorbell is { } doorbell) doorbell(this);
        else ProcessTx(queue / 2);
    }

    /// <summary>Who serves a TX doorbell instead of the notifying thread (null: the device itself, inline). A DPU's switch
    /// sets it so it can take its own lock before the device's (it then calls <see cref="ProcessTx"/>), the way a vhost
    /// data path pulls from a guest's TX ring.</summary>
    public Action<VirtioNetDevice>? TxDoorbell { get; set; }

    /// <summary>True: a transmit descriptor pointing outside the function's IOMMU domain fails that frame (a TX error, as a
    /// DPU counts it in the vport's tx_error) instead of setting DEVICE_NEEDS_RESET; ring faults still reset.</summary>
    public bool BadTxBufferIsFrameError { get; set; }

    /// <summary>Runs the TX queues: each chain's frame goes on the wire, each chain completes, one publish per queue and burst.</summary>
    public void ProcessTx() => ProcessTx(-1);

    /// <summary>Runs transmit queue <paramref name="pair"/> (all of them when -1): a doorbell starts its own queue only, as a
    /// NIC's per-queue doorbell does, so a doorbell costs the same with 1 or 8 pairs.</summary>
    private void ProcessTx(int pair)
    {
        lock (_txLock)
        {
            // A loopback wire hands our frames straight back: take the RX lock once for the burst and publish the RX ring
            // once at its end. On any other wire the RX lock is not held while frames leave: the receiver takes its own
            // device's locks, and that device may be transmitting to us at this moment (two locks, two orders: a deadlock).
            if (_port?.ReturnsToSender == true)
                lock (_rxLock) TxBurst(pair, loopback: true);
            else TxBurst(pair, loopback: false);
        }
    }

    private void TxBurst(int pair, bool loopback)
    {
        if (loopback)
        {
            _inTxBurst = true;
            _txThread = Environment.CurrentManagedThreadId;
        }
        try
        {
            if (pair >= 0)
            {
                if ((uint)pair < (uint)_tx.Length && _tx[pair] is { } one) DrainTx(pair, one);
                return;
            }
            for (int q = 0; q < _tx.Length; q++)
                if (_tx[q] is { } txq && !DrainTx(q, txq)) return;
        }
        finally
        {
            if (loopback)
            {
                _txThread = 0;
                _inTxBurst = false;
                if (_rxDirty != 0) PublishRx();
            }
        }
    }

    private bool DrainTx(int pair, SplitVirtqueue txq)
    {
        _txPair = pair; // what the loopback brings back now is this queue's flow: it returns on this pair (see LoopbackQueue)
        // Frames leave as one batch per up to FrameBatch.Capacity chains: their buffers stay the driver's to reuse only
        // after the used ring is published below, so their bytes are still there when the batch goes.
        int maxFrame = VirtioPci.NetHdrSize + Mtu + 18;
        while (true)
        {
            int burst = txq.TryPopBuffers(write: false, VirtioPci.NetHdrSize + 14, maxFrame, _txHeads.AsSpan(0, FrameBatch.Capacity - _txBatch.Count), _txAt, _txLengths);
            if (burst != 0)
            {
                TransmitBuffers(burst);
                txq.PushUsed(_txHeads.AsSpan(0, burst), default);
                continue;
            }
            VirtqFault f = txq.TryPop(_txChain, out bool popped);
            if (f == VirtqFault.DescriptorOutsideDma && BadTxBufferIsFrameError)
            {
                Stats.TxErrors++; // the frame's error, not the ring's: completed unsent
                txq.PushUsed(txq.DiscardNext(), 0);
                continue;
            }
            if (f != VirtqFault.None)
            {
                SendTxBatch();
                NeedsResetLocked("tx_queue", $"queue {2 * pair + 1}: {f} at avail slot {txq.NextAvail}");
                return false;
            }
            if (!popped) break;
            TransmitChain(_txChain);
            txq.PushUsed(_txChain.Head, 0);
        }
        SendTxBatch();
        txq.SetNotification(true); // event index: kick me again once you add past what I consumed
        if (txq.PublishUsed()) RaiseQueueInterrupt(2 * pair + 1);
        return true;
    }

    private void SendTxBatch()
    {
        if (_txBatch.Count == 0) return;
        _port?.TransmitBurst(_txBatch);
        _txBatch.Clear();
    }

    /// <summary>The control queue: VIRTIO_NET_CTRL_MQ / VQ_PAIRS_SET picks how many pairs carry traffic; anything else is
    /// answered VIRTIO_NET_ERR (no other class is offered).</summary>
    private void ProcessCtrl()
    {
        lock (_txLock)
        lock (_rxLock)
        {
            if (_ctrl is not { } ctrl) return;
            bool any = false;
            Span<byte> command = stackalloc byte[4];
            while (true)
            {
                VirtqFault f = ctrl.TryPop(_ctrlChain, out bool popped);
                if (f != VirtqFault.None)
                {
                    NeedsResetLocked("ctrl_queue", $"{f} at avail slot {ctrl.NextAvail}");
                    return;
                }
                if (!popped) break;
                any = true;
                command.Clear();
                int got = 0;
                for (int i = 0; i < _ctrlChain.Count && !_ctrlChain.IsWritable(i) && got < command.Length; i++)
                {
                    Span<byte> seg = _ctrlChain.Segment(i);
                    int n = Math.Min(seg.Length, command.Length - got);
                    seg[..n].CopyTo(command[got..]);
                    got += n;
                }
                byte ack = VirtioPci.CtrlErr;
                if (got >= 4 && command[0] == VirtioPci.CtrlMq && command[1] == VirtioPci.CtrlMqVqPairsSet && Negotiated(VirtioPci.FeatureMq))
                {
                    int pairs = BinaryPrimitives.ReadUInt16LittleEndian(command[2..]);
                    if (pairs >= 1 && pairs <= _maxPairs)
                    {
                        Volatile.Write(ref _activePairs, pairs);
                        ack = VirtioPci.CtrlOk;
                    }
                }
                uint written = 0;
                for (int i = _ctrlChain.Count - 1; i >= 0; i--)
                    if (_ctrlChain.IsWritable(i) && _ctrlChain.Segment(i) is { Length: > 0 } seg)
                    {
                        seg[^1] = ack;
                        written = 1;
                        break;
                    }
                ctrl.PushUsed(_ctrlChain.Head, written);
            }
            if (any && ctrl.PublishUsed()) RaiseQueueInterrupt(CtrlIndex);
        }
    }

    /// <summary>The buffers one <see cref="SplitVirtqueue.TryPopBuffers"/> took (each of a valid length, the batch has room
    /// for all): headers checked, counted, batched.</summary>
    private unsafe void TransmitBuffers(int popped)
    {
        long packets = 0, bytes = 0;
        for (int i = 0; i < popped; i++)
        {
            byte* p = (byte*)_txAt[i];
            int length = _txLengths[i] - VirtioPci.NetHdrSize;
            if (p[0] != 0 || p[1] != VirtioPci.GsoNone) // without CSUM or GSO negotiated the driver may ask for neither
            {
                Stats.TxErrors++;
                continue;
            }
            _txBatch.Add(p + VirtioPci.NetHdrSize, length);
            packets++;
            bytes += length;
        }
        Stats.TxPackets += packets; // under the TX lock: one writer
        Stats.TxBytes += bytes;
        if (_txBatch.IsFull) SendTxBatch();
    }

    /// <summary>A frame in one device-readable buffer of a valid length (the frame path): header checked, counted, batched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void TransmitBuffer(Span<byte> bytes)
    {
        if (!Accept(bytes)) return;
        Span<byte> frame = bytes[VirtioPci.NetHdrSize..];
        fixed (byte* p = frame) _txBatch.Add(p, frame.Length); // DMA memory: native, the pin is a no-op
        if (_txBatch.IsFull) SendTxBatch();
    }

    /// <summary>Checks a frame's virtio_net_hdr and counts it sent, or counts a TX error: without CSUM or GSO negotiated
    /// the driver may ask for neither (fail closed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept(ReadOnlySpan<byte> bytes)
    {
        if (bytes[0] != 0 || bytes[1] != VirtioPci.GsoNone)
        {
            Stats.TxErrors++;
            return false;
        }
        Stats.TxPackets++; // under the TX lock: one writer; 64-bit stores are atomic on the platforms we run
        Stats.TxBytes += bytes.Length - VirtioPci.NetHdrSize;
        return true;
    }

    private void TransmitChain(DescriptorChain chain)
    {
        int total = chain.ReadableBytes;
        if (chain.WritableBytes != 0 || total < VirtioPci.NetHdrSize + 14 || total > VirtioPci.NetHdrSize + Mtu + 18)
        {
            Stats.TxErrors++; // completed, not sent: a bad buffer goes back, as hardware does
            return;
        }
        if (chain.Count == 1)
        {
            Span<byte> one = chain.Segment(0); // resolved and checked when popped
            if (one.Length != total) Stats.TxErrors++; // the region left the domain since the pop: a DMA fault
            else TransmitBuffer(one);
            return;
        }
        int at = 0;
        for (int i = 0; i < chain.Count; i++)
        {
            Span<byte> seg = chain.Segment(i);
            seg.CopyTo(_gather.AsSpan(at));
            at += seg.Length;
        }
        if (at != total) // a region that left the domain since the pop (freed, transferred away): a DMA fault
        {
            Stats.TxErrors++;
            return;
        }
        ReadOnlySpan<byte> bytes = _gather.AsSpan(0, at);
        if (!Accept(bytes)) return;
        SendTxBatch(); // the gather buffer is reused by the next chain: this frame goes now, after those batched before it
        _port?.Transmit(bytes[VirtioPci.NetHdrSize..]);
    }

    /// <summary>A frame from the wire: into the next posted RX buffer(s), or dropped and counted when there is none.</summary>
    public void Receive(ReadOnlySpan<byte> frame) => Deliver(frame, _txThread == Environment.CurrentManagedThreadId ? LoopbackQueue : 0);

    /// <summary>A burst from the wire: one RX lock and one publish of the receive ring for all of it.</summary>
    public void ReceiveBurst(FrameBatch frames)
    {
        // A protocol engine bound to this function (RoCEv2) looks at each frame first, outside the RX lock as for a single
        // frame (it may transmit, which takes the TX lock); what it leaves goes into the ring under one lock.
        Span<bool> taken = stackalloc bool[FrameBatch.Capacity];
        if (Volatile.Read(ref _tap) is { } tap)
            for (int i = 0; i < frames.Count; i++) taken[i] = tap.Take(frames[i]);
        if (_txThread == Environment.CurrentManagedThreadId) ReceiveBurstLocked(frames, taken, LoopbackQueue, [], []); // our own loopback TX burst holds the RX lock
        else
            lock (_rxLock) ReceiveBurstLocked(frames, taken, 0, [], []);
    }

    /// <summary>As <see cref="ReceiveBurst"/>, frame i into receive queue <paramref name="queues"/>[i] (a pair the driver
    /// enabled); <paramref name="delivered"/>[i] says whether it reached a posted buffer (false: dropped and counted). A
    /// switch's burst to this function: one RX lock and one publish of the receive ring for all of it.</summary>
    public void DeliverBurst(FrameBatch frames, ReadOnlySpan<int> queues, Span<bool> delivered)
    {
        Span<bool> taken = stackalloc bool[FrameBatch.Capacity];
        if (Volatile.Read(ref _tap) is { } tap)
            for (int i = 0; i < frames.Count; i++) taken[i] = tap.Take(frames[i]);
        if (_txThread == Environment.CurrentManagedThreadId) ReceiveBurstLocked(frames, taken, 0, queues, delivered); // our own TX burst holds the RX lock (loopback)
        else
            lock (_rxLock) ReceiveBurstLocked(frames, taken, 0, queues, delivered);
    }

    // What one burst pops from a queue on the frame path (heads, buffer addresses, lengths): the RX set is used under
    // the RX lock, the TX set under the TX lock.
    private readonly ushort[] _rxHeads = new ushort[FrameBatch.Capacity], _txHeads = new ushort[FrameBatch.Capacity];
    private readonly nint[] _rxAt = new nint[FrameBatch.Capacity], _txAt = new nint[FrameBatch.Capacity];
    private readonly int[] _rxLengths = new int[FrameBatch.Capacity], _txLengths = new int[FrameBatch.Capacity];
    private readonly int[] _rxUsed = new int[FrameBatch.Capacity];

    /// <summary>
    /// The receive queue of a frame our own TX burst put on a loopback wire: the pair it left from. With more than one pair,
    /// virtio's automatic receive steering (§5.1.6.5.5) delivers a flow's packets on receiveqN when it was last sent on
    /// transmitqN, and a looped-back frame is the flow just sent; one pair, or a queue not enabled, means queue 0.
    /// </summary>
    private int LoopbackQueue => _txPair < _activePairs ? _txPair : 0;

    private int _txPair;

    /// <summary>The burst into <paramref name="queue"/>, or frame i into <paramref name="queues"/>[i] when that is given;
    /// <paramref name="delivered"/>[i], when given, says whether frame i reached a buffer (or a protocol engine took it).</summary>
    private unsafe void ReceiveBurstLocked(FrameBatch frames, ReadOnlySpan<bool> taken, int queue, ReadOnlySpan<int> queues, Span<bool> delivered)
    {
        bool inBurst = _inTxBurst;
        _inTxBurst = true; // publish once, below
        try
        {
            // The frame path: one pop of as many buffers as the burst has frames of a valid size, each big enough for the
            // longest; then per frame a header, a copy and a used length; one push of the used elements. Frames past
            // what was popped (no buffer, a chain, a fault) take the general path, in order, which counts them.
            int count = frames.Count;
            bool oneQueue = true;
            if (!queues.IsEmpty)
            {
                queue = queues[0];
                for (int i = 1; i < count && oneQueue; i++) oneQueue = queues[i] == queue;
            }
            if (!oneQueue) // frames spread over queues (a switch's steering): each on the general path
            {
                for (int i = 0; i < count; i++)
                {
                    bool ok = taken[i] || ReceiveLocked(frames[i], queues[i]);
                    if (!delivered.IsEmpty) delivered[i] = ok;
                }
                return;
            }
            SplitVirtqueue? rxq = (uint)queue < (uint)_activePairs ? _rx[queue] : null;
            int maxFrame = Mtu + 18, valid = 0, longest = 0;
            if (rxq is not null && (Status & VirtioPci.StatusDriverOk) != 0)
                for (int i = 0; i < count; i++)
                {
                    int length = frames.Length(i);
                    if (taken[i] || length < 14 || length > maxFrame) continue;
                    valid++;
                    longest = Math.Max(longest, length);
                }
            int popped = valid == 0 ? 0 : rxq!.TryPopBuffers(write: true, VirtioPci.NetHdrSize + longest, int.MaxValue, _rxHeads.AsSpan(0, valid), _rxAt, _rxLengths);
            int used = 0;
            long bytes = 0;
            for (int i = 0; i < count; i++)
            {
                if (taken[i])
                {
                    if (!delivered.IsEmpty) delivered[i] = true;
                    continue;
                }
                ReadOnlySpan<byte> frame = frames[i];
                if (used == popped || frame.Length < 14 || frame.Length > maxFrame)
                {
                    bool ok = ReceiveLocked(frame, queue);
                    if (!delivered.IsEmpty) delivered[i] = ok;
                    continue;
                }
                if (!delivered.IsEmpty) delivered[i] = true;
                byte* p = (byte*)_rxAt[used];
                *(ulong*)p = 0; // virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start
                *(uint*)(p + 8) = 1u << 16; // csum_offset 0, num_buffers 1 (little-endian, as the ring words)
                fixed (byte* source = frame) FrameCopy.Copy(p + VirtioPci.NetHdrSize, source, frame.Length); // the buffer holds the longest frame (popped so)
                _rxUsed[used++] = VirtioPci.NetHdrSize + frame.Length;
                bytes += frame.Length;
            }
            if (popped != 0)
            {
                rxq!.PushUsed(_rxHeads.AsSpan(0, popped), _rxUsed);
                Stats.RxPackets += popped; // under the RX lock: one writer
                Stats.RxBytes += bytes;
                _rxDirty |= 1UL << queue;
            }
        }
        finally
        {
            _inTxBurst = inBurst;
            if (!inBurst && _rxDirty != 0) PublishRx();
        }
    }

    /// <summary>As <see cref="Receive"/>, into receive queue <paramref name="queue"/> (a pair the driver enabled), saying
    /// whether the frame reached a posted buffer (false: dropped and counted).</summary>
    public bool Deliver(ReadOnlySpan<byte> frame, int queue = 0)
    {
        if (Volatile.Read(ref _tap) is { } tap && tap.Take(frame)) return true; // a protocol bound to this function (RoCEv2) took it
        if (_txThread == Environment.CurrentManagedThreadId) return ReceiveLocked(frame, queue); // our own TX burst already holds the RX lock (loopback)
        lock (_rxLock) return ReceiveLocked(frame, queue);
    }

    private IFrameTap? _tap;

    /// <summary>A protocol engine bound to this function (rxe-style RoCEv2): it sees each arriving frame first and may take it.</summary>
    public void SetTap(IFrameTap? tap) => Volatile.Write(ref _tap, tap);

    /// <summary>Puts a frame a protocol engine built on the wire through this function's port (the netdev's xmit path).</summary>
    public void TransmitRaw(ReadOnlySpan<byte> frame)
    {
        lock (_txLock)
        {
            Stats.TxPackets++;
            Stats.TxBytes += frame.Length;
            _port?.Transmit(frame);
        }
    }

    private bool ReceiveLocked(ReadOnlySpan<byte> frame, int queue)
    {
        SplitVirtqueue? rxq = (uint)queue < (uint)_activePairs ? _rx[queue] : null;
        if (rxq is null || (Status & VirtioPci.StatusDriverOk) == 0)
        {
            Stats.RxDropped++;
            return false;
        }
        if (frame.Length < 14 || frame.Length > Mtu + 18)
        {
            Stats.RxErrors++;
            return false;
        }
        if (!FillRx(rxq, frame)) return false;
        Stats.RxPackets++; // under the RX lock: one writer
        Stats.RxBytes += frame.Length;
        _rxDirty |= 1UL << queue;
        if (!_inTxBurst) PublishRx();
        return true;
    }

    private bool FillRx(SplitVirtqueue rxq, ReadOnlySpan<byte> frame)
    {
        int needed = VirtioPci.NetHdrSize + frame.Length;
        if (rxq.TryPopBuffer(write: true, needed, int.MaxValue, out ushort head, out Span<byte> posted))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(posted, 0); // virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start
            BinaryPrimitives.WriteUInt32LittleEndian(posted[8..], 1u << 16); // csum_offset 0, num_buffers 1
            frame.CopyTo(posted[VirtioPci.NetHdrSize..]);
            rxq.PushUsed(head, (uint)needed);
            return true;
        }
        VirtqFault f = rxq.TryPop(_rxChain, out bool popped);
        if (f == VirtqFault.None && popped && _rxChain.Count == 1 && _rxChain.WritableBytes >= needed)
        {
            // One posted buffer holds the header and the frame (every frame a driver with MTU-sized buffers gets).
            Span<byte> buffer = _rxChain.Segment(0);
            if (buffer.Length >= needed)
            {
                Span<byte> header = buffer[..VirtioPci.NetHdrSize];
                BinaryPrimitives.WriteUInt64LittleEndian(header, 0); // flags, gso_type, hdr_len, gso_size, csum_start
                BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 1u << 16); // csum_offset 0, num_buffers 1
                frame.CopyTo(buffer[VirtioPci.NetHdrSize..]);
                rxq.PushUsed(_rxChain.Head, (uint)needed);
                return true;
            }
        }
        return FillRxChains(rxq, frame, f, popped);
    }

    /// <summary>The general case: the frame over one or more chains (mergeable buffers), each checked segment by segment;
    /// <paramref name="first"/> and <paramref name="firstPopped"/> are what the first pop returned.</summary>
    private bool FillRxChains(SplitVirtqueue rxq, ReadOnlySpan<byte> frame, VirtqFault first, bool firstPopped)
    {
        bool mergeable = Negotiated(VirtioPci.FeatureMrgRxbuf);
        int needed = VirtioPci.NetHdrSize + frame.Length;
        int written = 0, buffers = 0;
        Span<byte> header = default;
        while (written < needed)
        {
            if (buffers > 0 && (!mergeable || rxq.Pending == 0))
            {
                Stats.RxDropped++; // the frame did not fit: what was filled is completed empty
                return false;
            }
            VirtqFault f;
            bool popped;
            if (buffers == 0) (f, popped) = (first, firstPopped);
            else f = rxq.TryPop(_rxChain, out popped);
            if (f != VirtqFault.None)
            {
                NeedsResetLocked("rx_queue", $"{f} at avail slot {rxq.NextAvail}");
                return false;
            }
            if (!popped)
            {
                Stats.RxDropped++; // no buffer posted: the wire does not wait
                return false;
            }
            if (_rxChain.ReadableBytes != 0)
            {
                rxq.PushUsed(_rxChain.Head, 0);
                Stats.RxErrors++;
                return false;
            }
            int inThis = 0;
            for (int i = 0; i < _rxChain.Count && written < needed; i++)
            {
                Span<byte> seg = _rxChain.Segment(i);
                if (seg.Length != _rxChain.Length(i)) // left the domain since the pop (a DMA fault, counted): the frame fails
                {
                    Stats.RxErrors++;
                    rxq.PushUsed(_rxChain.Head, 0);
                    return false;
                }
                int n = Math.Min(seg.Length, needed - written);
                if (written < VirtioPci.NetHdrSize)
                {
                    if (seg.Length < VirtioPci.NetHdrSize) { Stats.RxErrors++; rxq.PushUsed(_rxChain.Head, 0); return false; }
                    header = seg[..VirtioPci.NetHdrSize];
                    header.Clear();
                    int body = Math.Min(n, needed) - VirtioPci.NetHdrSize;
                    frame[..body].CopyTo(seg[VirtioPci.NetHdrSize..]);
                }
                else frame.Slice(written - VirtioPci.NetHdrSize, n).CopyTo(seg);
                written += n;
                inThis += n;
            }
            if (!mergeable && written < needed)
            {
                rxq.PushUsed(_rxChain.Head, 0);
                Stats.RxDropped++;
                return false;
            }
            rxq.PushUsed(_rxChain.Head, (uint)inThis);
            buffers++;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], (ushort)buffers); // num_buffers
        return true;
    }

    private void PublishRx()
    {
        for (ulong dirty = _rxDirty; dirty != 0; dirty &= dirty - 1)
        {
            int q = System.Numerics.BitOperations.TrailingZeroCount(dirty);
            if (_rx[q]?.PublishUsed() == true) RaiseQueueInterrupt(2 * q);
        }
        _rxDirty = 0;
    }
}
