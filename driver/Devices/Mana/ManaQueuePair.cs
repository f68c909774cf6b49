using System.Buffers.Binary;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;
using static NicScript.Driver.Devices.Mana.ManaRegisters;

namespace NicScript.Driver.Devices.Mana;

/// <summary>The native driver's SQ and RQ with their CQs and the shared EQ: post in bursts, one doorbell per burst.</summary>
/// <remarks>
/// Rings are a power of two in bytes (the device refuses any other size), so ring offsets are masked. TX WQEs are one basic unit (8-byte header, 8-byte short OOB, one SGE); RX WQEs likewise (header, 8 zero bytes,
/// one SGE). Frame slots of 2 KiB are tied to WQE numbers (slot = WQE index mod slots), so completions need no
/// bookkeeping beyond the offsets the CQEs carry. Allocation-free after <see cref="Start"/>.
/// </remarks>
public sealed class ManaQueuePair
{
    public delegate void FrameHandler(ReadOnlySpan<byte> frame);

    private readonly ManaDriver _d;
    private readonly DmaRegion _sqRing, _rqRing, _txBuf, _rxBuf;
    private readonly int _slots;
    private readonly OwnerBitRing<DmaRegionMemory> _sqCq, _rqCq;
    private uint _sqTail, _rqTail, _sqDone;
    // A WQE of ours differs from the last only in its buffer's address and length: its first 16 bytes (header, OOB) and the
    // SGE's key are encoded once, by the same writers as every other WQE, and copied as words per post.
    private readonly ulong _txHead, _txOob, _rxHead, _rxOob;
    private readonly uint _mkey;

    internal ManaQueuePair(ManaDriver d, uint sqId, uint sqCq, ulong sqObj, DmaRegion sqRing, DmaRegion sqCqRing,
        uint rqId, uint rqCq, ulong rqObj, DmaRegion rqRing, DmaRegion rqCqRing, DmaRegion txBuf, DmaRegion rxBuf, int slots)
    {
        _d = d;
        (SqId, SqCqId, SqObject, RqId, RqCqId, RqObject) = (sqId, sqCq, sqObj, rqId, rqCq, rqObj);
        (_sqRing, _rqRing, _txBuf, _rxBuf) = (sqRing, rqRing, txBuf, rxBuf);
        _slots = Math.Min(slots, Math.Min(sqRing.Length, rqRing.Length) / WqeBu);
        _sqCq = ManaDriver.Consumer(sqCqRing, CqeSize, 60);
        _rqCq = ManaDriver.Consumer(rqCqRing, CqeSize, 60);
        Span<byte> w = stackalloc byte[WqeBu];
        ManaDriver.WriteWqe(w, oobBytes: 8, 0, d.Mkey, 0);
        var oob = new ManaTxShortOobWriter(w[8..]);
        oob.VcqNum = SqCqId;
        oob.VsqFrame = (ushort)(SqId >> 10 & 0x3FFF);
        (_txHead, _txOob) = (BinaryPrimitives.ReadUInt64LittleEndian(w), BinaryPrimitives.ReadUInt64LittleEndian(w[8..]));
        ManaDriver.WriteWqe(w, oobBytes: 8, 0, d.Mkey, 0);
        (_rxHead, _rxOob) = (BinaryPrimitives.ReadUInt64LittleEndian(w), BinaryPrimitives.ReadUInt64LittleEndian(w[8..]));
        _mkey = d.Mkey;
    }

    /// <summary>One basic unit: a template's header and OOB, then the SGE (address, mem_key, size).</summary>
    private static void WriteUnit(Span<byte> w, ulong head, ulong oob, ulong address, uint mkey, uint size)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(w, head);
        BinaryPrimitives.WriteUInt64LittleEndian(w[8..], oob);
        BinaryPrimitives.WriteUInt64LittleEndian(w[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(w[24..], mkey | (ulong)size << 32);
    }

    public uint SqId { get; }
    public uint SqCqId { get; }
    public ulong SqObject { get; }
    public uint RqId { get; }
    public uint RqCqId { get; }
    public ulong RqObject { get; }

    public long TxErrors { get; private set; }
    public long RxErrors { get; private set; }
    /// <summary>RQ fences the device reported done (CQE_RX_OBJECT_FENCE after MANA_FENCE_RQ).</summary>
    public long Fences { get; private set; }
    public long TxCompleted { get; private set; }

    /// <summary>WQEs the SQ can take now.</summary>
    public int TxRoom => _slots - (int)((_sqTail - _sqDone) / WqeBu);

    internal void Start()
    {
        for (int i = 0; i < _slots; i++) PostRx(i);
        RingRq();
        ArmCqs();
    }

    /// <summary>The DMA buffer of the TX slot the next <see cref="Post"/> uses.</summary>
    public Span<byte> NextTxBuffer() => _d.Bytes(_txBuf, (int)(_sqTail / WqeBu % (uint)_slots) * ManaDriver.FrameSlot, ManaDriver.FrameSlot);

    /// <summary>Writes one SQ WQE for <paramref name="length"/> bytes of <see cref="NextTxBuffer"/>; false when the SQ is full.</summary>
    public bool Post(int length)
    {
        if (TxRoom <= 0) return false;
        int slot = (int)(_sqTail / WqeBu % (uint)_slots);
        WriteUnit(_d.Bytes(_sqRing, (int)(_sqTail & (uint)(_sqRing.Length - 1)), WqeBu), _txHead, _txOob, _txBuf.Iova + (ulong)(slot * ManaDriver.FrameSlot),
            _mkey, (uint)length);
        _sqTail += WqeBu;
        return true;
    }

    /// <summary>Copies a hand-made WQE (whole basic units) into the SQ as it is, as a test tool or testpmd's raw mode would.</summary>
    public bool PostRaw(ReadOnlySpan<byte> wqe)
    {
        if (wqe.Length == 0 || wqe.Length % WqeBu != 0 || TxRoom * WqeBu < wqe.Length) return false;
        for (int i = 0; i < wqe.Length; i += WqeBu)
        {
            wqe.Slice(i, WqeBu).CopyTo(_d.Bytes(_sqRing, (int)(_sqTail & (uint)(_sqRing.Length - 1)), WqeBu));
            _sqTail += WqeBu;
        }
        return true;
    }

    /// <summary>Rings the SQ doorbell once for everything posted since the last call.</summary>
    public void Flush() => _d.Ring(SqDoorbell, (ulong)_sqTail << 32 | SqId, _d.DbId);

    /// <summary>Reaps TX completions; returns how many (errors are counted in <see cref="TxErrors"/>).</summary>
    public int PollTx(int budget = 64)
    {
        int n = 0;
        while (n < budget && NextCqe(_sqCq, out ReadOnlySpan<byte> cqe))
        {
            // Linux's mana_poll_tx_cq refuses a CQE whose client_type is not MANA_CQE_COMPLETION
            if ((ManaCqeType)(cqe[0] & 0x3F) != ManaCqeType.TxOkay || cqe[0] >> 6 != CqeClientCompletion) TxErrors++;
            _sqDone += WqeBu;
            n++;
        }
        TxCompleted += n;
        return n;
    }

    /// <summary>Hands up to <paramref name="budget"/> received frames to <paramref name="handler"/>, reposts their WQEs, rings once.</summary>
    public int PollRx(FrameHandler handler, int budget = 32)
    {
        int n = 0;
        while (n < budget && NextCqe(_rqCq, out ReadOnlySpan<byte> cqe))
        {
            n++;
            if ((ManaCqeType)(cqe[0] & 0x3F) == ManaCqeType.RxObjectFence)
            {
                Fences++; // consumes no WQE
                continue;
            }
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(cqe[56..]);
            int slot = (int)(offset / WqeBu % (uint)_slots);
            if ((ManaCqeType)(cqe[0] & 0x3F) == ManaCqeType.RxOkay)
                handler(_d.Bytes(_rxBuf, slot * ManaDriver.FrameSlot, BinaryPrimitives.ReadUInt16LittleEndian(cqe[8..])));
            else RxErrors++;
            PostRx(slot);
        }
        if (n > 0) RingRq();
        return n;
    }

    /// <summary>Handles up to 5 EQEs (as mana_gd_process_eq_events), re-arms the CQs they name and the EQ.</summary>
    public int ProcessEvents()
    {
        int n = 0;
        OwnerBitRing<DmaRegionMemory> eq = _d.EqRing;
        while (n < 5 && ManaDriver.NextEqe(eq, out _, out _)) n++;
        if (n > 0)
        {
            ArmCqs();
            _d.Ring(EqDoorbell, (ulong)(eq.Head % (eq.Count * 8L)) << 32 | 1UL << 63 | _d.EqId, _d.DbId);
        }
        return n;
    }

    private void ArmCqs()
    {
        _d.Ring(CqDoorbell, (ulong)(_sqCq.Head % (_sqCq.Count * 8L)) << 32 | 1UL << 63 | SqCqId, _d.DbId);
        _d.Ring(CqDoorbell, (ulong)(_rqCq.Head % (_rqCq.Count * 8L)) << 32 | 1UL << 63 | RqCqId, _d.DbId);
    }

    private void PostRx(int slot)
    {
        WriteUnit(_d.Bytes(_rqRing, (int)(_rqTail & (uint)(_rqRing.Length - 1)), WqeBu), _rxHead, _rxOob, _rxBuf.Iova + (ulong)(slot * ManaDriver.FrameSlot),
            _mkey, ManaDriver.FrameSlot);
        _rqTail += WqeBu;
    }

    private void RingRq() => _d.Ring(RqDoorbell, (ulong)_rqTail << 32 | RqId, _d.DbId);

    private static bool NextCqe(OwnerBitRing<DmaRegionMemory> cq, out ReadOnlySpan<byte> cqe)
    {
        if (cq.TryRead(out cqe) != OwnerBitResult.New) return false;
        cq.Advance();
        return true;
    }
}
