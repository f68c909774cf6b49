using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;
using NicScript.Driver.Wire;
using static NicScript.Driver.Devices.Mana.ManaRegisters;

namespace NicScript.Driver.Devices.Mana;

public sealed partial class ManaDevice
{
    private const int MaxFrame = 9216;
    private readonly byte[] _wqe = new byte[MaxSqeSize];
    private readonly byte[] _frame = GC.AllocateArray<byte>(MaxFrame, pinned: true); // a gathered frame rides in a FrameBatch: never moved
    private readonly List<GdmaQueue> _txPending = new(4);
    private bool _txRunning;

    // The TX burst: the frames taken since the last send, and the completions of the WQEs taken since, in WQE order (Linux's
    // mana_poll_tx_cq completes its skbs in the order the CQEs come). A frame's buffer is the driver's again only once its
    // CQE is out, so the CQEs are written after the burst left.
    private readonly FrameBatch _txBatch = new();
    private readonly TxDone[] _txDone = new TxDone[FrameBatch.Capacity];
    private int _txDoneCount;

    private readonly record struct TxDone(uint RingOffset, ManaCqeType Type, uint VendorErr);

    /// <summary>Runs an SQ from the device's head to the driver's tail: each WQE's frame goes on the wire, each gets a CQE.</summary>
    /// <remarks>
    /// A WQE is checked as the reference says before anything is sent: the 8-byte header (reserved bits), an inline OOB
    /// of 8 (short) or 24 (long) bytes that decodes and names this SQ's CQ, 1–30 SGEs carrying the GPA key and
    /// pointing into DMA memory, the whole within 512 bytes. A WQE that fails completes with an error CQE
    /// (TX_INVALID_OOB, TX_HDR_PROCESSING_ERROR, TX_MTU_DROP, TX_VPORT_IDX_OUT_OF_RANGE); one whose size cannot be known
    /// ends the batch (head jumps to the tail). Frames leave in bursts of up to <see cref="FrameBatch.Capacity"/>, each
    /// burst's CQEs after it; one EQE per doorbell, if the CQ is armed.
    /// </remarks>
    private void TransmitLocked(GdmaQueue sq)
    {
        // The wire is called with the transport's lock let go (see SendBurstLocked); meanwhile another doorbell may arrive.
        // One thread runs TX at a time: a doorbell that finds it running leaves its queue for that thread to take next.
        if (_txRunning)
        {
            if (!_txPending.Contains(sq)) _txPending.Add(sq);
            return;
        }
        _txRunning = true;
        try
        {
            DrainSqLocked(sq);
            while (_txPending.Count > 0)
            {
                GdmaQueue next = _txPending[^1];
                _txPending.RemoveAt(_txPending.Count - 1);
                if (Live(next) && next.Parent is { } cq && Live(cq)) DrainSqLocked(next);
            }
        }
        finally
        {
            _txRunning = false;
            _txBatch.Clear();
            _txDoneCount = 0;
        }
    }

    private void DrainSqLocked(GdmaQueue sq)
    {
        GdmaQueue cq = sq.Parent!;
        while (sq.Head != sq.Tail)
        {
            uint at = sq.Head;
            uint ringOffset = at & (uint)(sq.Size - 1); // a power of two (TryQueueMemory)
            Span<byte> wqe = _wqe;
            if (!ReadFirstUnit(sq, ringOffset, wqe) || !GdmaWqeView.Layout.Accepts(wqe) || new GdmaWqeView(wqe[..8]) is var hdr && (hdr.NumSge is 0 or > 30) || hdr.InlineOobSizeDiv4 is not (2 or 6))
            {
                sq.Head = sq.Tail;
                Done(ringOffset, ManaCqeType.TxInvalidOob, vendorErr: 1);
                break;
            }
            int sges = hdr.NumSge; // read once: the copy is ours, but one value decides the size and the loop
            int oob = hdr.InlineOobSizeDiv4 * 4;
            int size = (8 + oob + 16 * sges + WqeBu - 1) / WqeBu * WqeBu;
            if (size > MaxSqeSize || (uint)size > sq.Tail - at)
            {
                sq.Head = sq.Tail;
                Done(ringOffset, ManaCqeType.TxInvalidOob, vendorErr: 2);
                break;
            }
            sq.Head += (uint)size;
            if (size > WqeBu && !sq.Region.TryCopyRing(ringOffset, sq.Size, wqe[..size]))
                Done(ringOffset, ManaCqeType.TxHdrProcessingError, vendorErr: 3);
            else
            {
                ManaCqeType result = TakeWqe(sq, cq, wqe[..size], oob, sges, out uint vendorErr, out bool suppressed);
                if (!suppressed) Done(ringOffset, result, vendorErr);
                if (result == ManaCqeType.TxOkay && sges > 1 && !FlushTxLocked(sq, cq)) return; // the gathered frame's buffer is reused next
            }
            if ((_txBatch.IsFull || _txDoneCount == _txDone.Length) && !FlushTxLocked(sq, cq)) return;
        }
        if (!FlushTxLocked(sq, cq)) return;
        _gdma.NotifyLocked(cq);
    }

    /// <summary>Copies the first 32-byte basic unit of the WQE at <paramref name="ringOffset"/> (a posted WQE has at least one)
    /// into <paramref name="wqe"/>: one lookup and a fixed-size copy, as a unit never straddles a page; a one-unit WQE
    /// (one SGE, short OOB) is then read whole. False on a DMA fault (counted).</summary>
    private static bool ReadFirstUnit(GdmaQueue q, uint ringOffset, Span<byte> wqe)
    {
        // A power-of-two ring of at least a page, a head that moves by whole units: always aligned; anything else copies piecewise.
        if (ringOffset % WqeBu != 0 || ringOffset + WqeBu > (uint)q.Size) return q.Region.TryCopyRing(ringOffset, q.Size, wqe[..WqeBu]);
        Span<byte> unit = q.Region.Bytes(ringOffset, WqeBu, write: false);
        if (unit.Length != WqeBu || wqe.Length < WqeBu) return false;
        Unsafe.CopyBlockUnaligned(ref wqe[0], ref unit[0], WqeBu);
        return true;
    }

    private void Done(uint ringOffset, ManaCqeType type, uint vendorErr) => _txDone[_txDoneCount++] = new TxDone(ringOffset, type, vendorErr);

    /// <summary>Sends the burst, then writes the CQEs taken since the last one. False when the SQ or its CQ went away while
    /// the lock was let go (destroyed, reset or removed): nothing left to complete into.</summary>
    private bool FlushTxLocked(GdmaQueue sq, GdmaQueue cq)
    {
        if (_txBatch.Count > 0)
        {
            Interlocked.Add(ref Stats.TxFrames, _txBatch.Count);
            Interlocked.Add(ref Stats.TxBytes, _txBatch.Bytes);
            bool letGo;
            try
            {
                letGo = SendBurstLocked(_txBatch); // only the TX runner gets here (TransmitLocked)
            }
            finally
            {
                _txBatch.Clear();
            }
            if (letGo && (!Live(sq) || !Live(cq)))
            {
                _txDoneCount = 0;
                return false;
            }
        }
        for (int i = 0; i < _txDoneCount; i++) CompleteTx(cq, sq, _txDone[i]);
        _txDoneCount = 0;
        return true;
    }

    /// <summary>Still this function's queue: not destroyed, reset away or hot-removed while the lock was let go.</summary>
    private bool Live(GdmaQueue q) => !_gdma.Removed && !q.Failed && _gdma.TryFindQueue(q.Type, q.Id, out GdmaQueue? found) && found == q;

    /// <summary>Puts a frame on the wire from under the transport's lock. On a loopback wire the frame comes straight back
    /// to this function, so the lock stays held. On any other wire it is let go for the call: the receiver takes its own
    /// device's locks, and that device may be sending to this function at this moment; holding ours would order the
    /// two locks both ways (a deadlock). True when the lock was let go: the caller re-checks its queues (<see cref="Live"/>).</summary>
    private bool SendLocked(ReadOnlySpan<byte> frame)
    {
        if (_port is not { } port) return false;
        if (port.ReturnsToSender)
        {
            port.Transmit(frame);
            return false;
        }
        Monitor.Exit(_gdma.Sync);
        try
        {
            port.Transmit(frame);
        }
        finally
        {
            Monitor.Enter(_gdma.Sync);
        }
        return true;
    }

    /// <summary>As <see cref="SendLocked"/>, for a burst: one call down the wire, the lock let go once.</summary>
    private bool SendBurstLocked(FrameBatch frames)
    {
        if (_port is not { } port) return false;
        if (port.ReturnsToSender)
        {
            port.TransmitBurst(frames);
            return false;
        }
        Monitor.Exit(_gdma.Sync);
        try
        {
            port.TransmitBurst(frames);
        }
        finally
        {
            Monitor.Enter(_gdma.Sync);
        }
        return true;
    }

    /// <summary>Checks a copied WQE and, when it is good, adds its frame to the TX burst (one SGE: straight from the driver's
    /// buffer; several: gathered into the device's own, which the caller sends before the next WQE).</summary>
    private unsafe ManaCqeType TakeWqe(GdmaQueue sq, GdmaQueue cq, ReadOnlySpan<byte> wqe, int oob, int sges, out uint vendorErr, out bool suppressed)
    {
        vendorErr = 0;
        suppressed = false;
        if (!ManaTxShortOobView.Layout.Accepts(wqe[8..])) return Err(10, out vendorErr); // the verdict alone: no fault record per WQE
        var s = new ManaTxShortOobView(wqe.Slice(8, ManaTxShortOobView.WireSize));
        if ((s.PktFmt == ManaTxPktFormat.Long) != (oob == 24)) return Err(11, out vendorErr);
        if (oob == 24 && !ManaTxLongOobView.Layout.Accepts(wqe[16..])) return Err(12, out vendorErr);
        if (s.VcqNum != cq.Id || s.VsqFrame != (sq.Id >> 10 & 0x3FFF)) return Err(13, out vendorErr);
        if (!_vportTxConfigured) return ManaCqeType.TxVportDisabled;
        if (s.ShortVpOffset != 0) return ManaCqeType.TxVportIdxOutOfRange;
        int total = 0;
        Span<byte> frame = _frame;
        Span<byte> single = default;
        for (int i = 0; i < sges; i++)
        {
            ReadOnlySpan<byte> entry = wqe[(8 + oob + 16 * i)..];
            if (!GdmaSgeView.Layout.Accepts(entry) || new GdmaSgeView(entry[..GdmaSgeView.WireSize]) is var sge && sge.MemKey != GpaMkey)
                return Err(20, out vendorErr);
            uint length = sge.Size;
            if (total + (long)length > MaxFrame) return ManaCqeType.TxMtuDrop;
            if (_txWindow.TryResolve(sge.Address, (int)length, write: false, out Span<byte> bytes) != DmaError.None) // a DMA fault: counted
                return ManaCqeType.TxHdrProcessingError;
            if (sges == 1) single = bytes; // one SGE: the frame leaves straight from the driver's buffer
            else bytes.CopyTo(frame[total..]);
            total += (int)length;
        }
        if (total < 14) return ManaCqeType.TxInvalidEthType;
        if (total > Mtu + 18) return ManaCqeType.TxMtuDrop;
        fixed (byte* p = sges == 1 ? single : frame) _txBatch.Add(p, total); // DMA memory or the pinned gather buffer: the pin is a no-op
        suppressed = s.SupressTxcqeGen;
        return ManaCqeType.TxOkay;
    }

    private ManaCqeType Err(uint code, out uint vendorErr)
    {
        vendorErr = code;
        return ManaCqeType.TxInvalidOob;
    }

    private void CompleteTx(GdmaQueue cq, GdmaQueue sq, in TxDone done)
    {
        if (done.Type != ManaCqeType.TxOkay)
        {
            Interlocked.Increment(ref Stats.TxErrors);
            Fault("tx-error-cqe", $"SQ {sq.Id} offset {done.RingOffset}: {done.Type} (vendor_err {done.VendorErr})");
        }
        Span<byte> c = _gdma.NextCqeLocked(cq); // written in place: the data area comes zeroed
        if (c.IsEmpty) return;
        // mana_tx_comp_oob by its storage words, no per-field checks: every value is in range by construction (the type is a
        // mana_cqe_type member, the offset a byte offset in the ring over the 32-byte unit).
        BinaryPrimitives.WriteUInt32LittleEndian(c, CqeHeader(done.Type, done.VendorErr)); // cqe_hdr
        BinaryPrimitives.WriteUInt32LittleEndian(c[8..], done.RingOffset / WqeBu << 5); // tx_sgl_offset 0, tx_wqe_offset (bits 5-31)
        _gdma.PublishCqeLocked(cq, c, sq.Id, isSq: true);
    }

    /// <summary>A MANA CQE's cqe_hdr word: cqe_type (bits 0-5), client_type (6-7) MANA_CQE_COMPLETION, vendor_err (8-31).</summary>
    private static uint CqeHeader(ManaCqeType type, uint vendorErr) => (uint)type & 0x3F | (uint)CqeClientCompletion << 6 | (vendorErr & 0xFF_FFFF) << 8;

    /// <summary>A frame from the wire: fills the next posted WQE of the default RQ and completes it with a mana_rxcomp_oob CQE.</summary>
    public void Receive(ReadOnlySpan<byte> frame)
    {
        if (Volatile.Read(ref _tap) is { } tap && tap.Take(frame)) return; // a protocol bound to this function (RoCEv2) took it
        lock (_gdma.Sync)
        {
            int frames = 0;
            long bytes = 0;
            if (ReceiveLocked(frame, ref frames, ref bytes) is { } cq) _gdma.NotifyLocked(cq);
            CountRx(frames, bytes);
        }
    }

    /// <summary>A burst from the wire: one lock, the frames into posted RQ WQEs in order, one EQE (if the CQ is armed).</summary>
    public void ReceiveBurst(FrameBatch frames)
    {
        // A protocol engine bound to this function looks at each frame first, outside the lock as for a single frame.
        Span<bool> taken = stackalloc bool[FrameBatch.Capacity];
        if (Volatile.Read(ref _tap) is { } tap)
            for (int i = 0; i < frames.Count; i++) taken[i] = tap.Take(frames[i]);
        lock (_gdma.Sync)
        {
            GdmaQueue? notify = null;
            int received = 0;
            long bytes = 0;
            for (int i = 0; i < frames.Count; i++)
                if (!taken[i] && ReceiveLocked(frames[i], ref received, ref bytes) is { } cq) notify = cq;
            if (notify is not null) _gdma.NotifyLocked(notify);
            CountRx(received, bytes);
        }
    }

    private void CountRx(int frames, long bytes)
    {
        if (frames == 0) return;
        Interlocked.Add(ref Stats.RxFrames, frames);
        Interlocked.Add(ref Stats.RxBytes, bytes);
    }

    /// <summary>One frame into the default RQ; the CQ it completed into (null: dropped, counted). Good frames are added to
    /// <paramref name="frames"/> and <paramref name="bytes"/>, counted once per burst.</summary>
    private GdmaQueue? ReceiveLocked(ReadOnlySpan<byte> frame, ref int frames, ref long bytes)
    {
        if (_gdma.Removed || !_rxEnabled || _defaultRq is not { } rq)
        {
            Interlocked.Increment(ref Stats.RxDisabled);
            return null;
        }
        if (rq.Head == rq.Tail)
        {
            Interlocked.Increment(ref Stats.RxNoWqe);
            return null;
        }
        GdmaQueue cq = rq.Parent!;
        uint at = rq.Head;
        uint ringOffset = at & (uint)(rq.Size - 1);
        Span<byte> wqe = _wqe.AsSpan(0, MaxRqeSize);
        ManaCqeType type = ManaCqeType.RxOkay;
        int written = 0;
        if (!ReadFirstUnit(rq, ringOffset, wqe) || !GdmaWqeView.Layout.Accepts(wqe) || new GdmaWqeView(wqe[..8]) is var hdr && (hdr.NumSge is 0 or > 15) || hdr.InlineOobSizeDiv4 != 2)
        {
            rq.Head = rq.Tail; // size unknown: the rest of the posted ring is unusable
            type = ManaCqeType.RxTruncated;
        }
        else
        {
            int sges = hdr.NumSge;
            int size = (16 + 16 * sges + WqeBu - 1) / WqeBu * WqeBu;
            rq.Head += (uint)Math.Min(size, (int)(rq.Tail - at));
            if (size > MaxRqeSize || (size > WqeBu && !rq.Region.TryCopyRing(ringOffset, rq.Size, wqe[..size])) || BinaryPrimitives.ReadUInt64LittleEndian(wqe[8..]) != 0)
                type = ManaCqeType.RxTruncated;
            else
                for (int i = 0; i < sges && written < frame.Length; i++)
                {
                    ReadOnlySpan<byte> entry = wqe[(16 + 16 * i)..];
                    if (!GdmaSgeView.Layout.Accepts(entry) || new GdmaSgeView(entry[..GdmaSgeView.WireSize]) is var sge && sge.MemKey != GpaMkey)
                    {
                        type = ManaCqeType.RxTruncated;
                        break;
                    }
                    int n = (int)Math.Min(sge.Size, (uint)(frame.Length - written));
                    if (_rxWindow.TryResolve(sge.Address, n, write: true, out Span<byte> posted) != DmaError.None) // a DMA fault: counted
                    {
                        type = ManaCqeType.RxTruncated;
                        break;
                    }
                    frame.Slice(written, n).CopyTo(posted);
                    written += n;
                }
            if (type == ManaCqeType.RxOkay && written < frame.Length) type = ManaCqeType.RxTruncated;
        }
        if (type == ManaCqeType.RxOkay)
        {
            frames++;
            bytes += frame.Length;
        }
        else
        {
            Interlocked.Increment(ref Stats.RxErrors);
            Fault("rx-error-cqe", $"RQ {rq.Id} offset {ringOffset}: {type}");
        }
        Span<byte> c = _gdma.NextCqeLocked(cq); // written in place: the data area comes zeroed
        if (c.IsEmpty) return cq;
        // mana_rxcomp_oob by its storage words, as CompleteTx does.
        BinaryPrimitives.WriteUInt32LittleEndian(c, CqeHeader(type, 0)); // cqe_hdr
        if (type == ManaCqeType.RxOkay)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(c[4..], ChecksumFlags(frame)); // the checksum and hash flags
            BinaryPrimitives.WriteUInt32LittleEndian(c[8..], (ushort)frame.Length); // ppi[0].pkt_len (bits 0-15)
        }
        BinaryPrimitives.WriteUInt32LittleEndian(c[56..], ringOffset); // rx_wqe_offset
        _gdma.PublishCqeLocked(cq, c, rq.Id, isSq: false);
        return cq;
    }

    /// <summary>The word at byte 4 of mana_rxcomp_oob for IPv4 frames: rx_iphdr_csum_succeed (bit 25) or _fail (bit 26), and
    /// rx_hashtype (bits 16-24) NDIS_HASH_IPV4, as the hardware's checksum offload reports; 0 for anything else.</summary>
    private static uint ChecksumFlags(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 34 || frame[12] != 0x08 || frame[13] != 0x00) return 0;
        int ihl = (frame[14] & 0xF) * 4;
        if (ihl < 20 || 14 + ihl > frame.Length) return 0;
        uint sum = 0;
        for (int i = 0; i < ihl; i += 2) sum += (uint)(frame[14 + i] << 8 | frame[15 + i]);
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        const uint HashIpv4 = 1u << 16;
        return (sum == 0xFFFF ? 1u << 25 : 1u << 26) | HashIpv4;
    }
}
