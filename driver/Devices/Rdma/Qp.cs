using System.Buffers.Binary;

namespace NicScript.Driver.Devices.Rdma;

/// <summary>One RC queue pair: send and receive queues, the requester, the responder, the completer and two CQs (reference §2–§4).</summary>
internal sealed class Qp
{
    internal sealed class SendWqe
    {
        public long WrId;
        public int Kind;            // RdmaWcOpcode.RDMA_WC_SEND or RDMA_WC_RDMA_WRITE
        public int MrHandle;
        public ulong Offset, RemoteAddr, Length;
        public uint Rkey;
        public bool Started;
        public uint FirstPsn;
        public int Packets;
        public Mr? Mr;
    }

    internal struct RecvWqe
    {
        public long WrId;
        public int MrHandle;
        public ulong Length;
    }

    private static readonly long[] RnrMicros =
    [
        655_360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960, 1280, 1920, 2560, 3840, 5120, 7680, 10_240, 15_360,
        20_480, 30_720, 40_960, 61_440, 81_920, 122_880, 163_840, 245_760, 327_680, 491_520,
    ];

    private readonly SendWqe[] _sq;
    private readonly RecvWqe[] _rq;
    private long _sqFirst, _sqEnd, _sendPos, _rqFirst, _rqEnd;
    private int _sendPacket, _retries, _rnrTries;
    private uint _sentHigh; // the PSN after the highest one ever sent in this stream
    private readonly RdmaCompletion[] _scq, _rcq;
    private int _scqHead, _scqCount, _rcqHead, _rcqCount;
    private long _seq, _nextWrId;
    private readonly byte[] _reth = new byte[RoceV2.Reth];
    private readonly byte[] _aeth = new byte[RoceV2.Aeth];

    // responder
    private bool _psnNakSent;
    private int _inMsg; // 0 none, 1 SEND, 2 WRITE
    private ulong _msgOffset, _writeVa, _writeRemaining;
    private Mr? _writeMr; // the RDMA WRITE's target, found by its rkey on the first packet; every packet's DMA goes through it

    public Qp(RdmaDevice device, RdmaContext owner, uint qpn, int sendSize, int recvSize)
    {
        Device = device;
        Owner = owner;
        Qpn = qpn;
        _sq = new SendWqe[sendSize];
        for (int i = 0; i < sendSize; i++) _sq[i] = new SendWqe();
        _rq = new RecvWqe[recvSize];
        _scq = new RdmaCompletion[sendSize];
        _rcq = new RdmaCompletion[recvSize];
        ConnectTo(device.Ip, qpn, null);
    }

    public RdmaDevice Device { get; }
    public RdmaContext Owner { get; }
    public uint Qpn { get; }
    public int State { get; private set; } = RdmaQpState.RDMA_QPS_RTS;
    public bool Overrun { get; private set; }

    // connection attributes
    public uint PeerIp { get; private set; }
    public uint DestQpn { get; private set; }
    public ushort SourcePort { get; private set; }
    public int Mtu { get; private set; } = 1024;
    public int RetryCnt { get; private set; } = 6;
    public int RnrRetry { get; private set; } = 7;
    public int MinRnrTimer { get; private set; } = 12;
    public int Timeout { get; private set; } = 14;
    public uint SqPsn { get; private set; }
    public uint RqPsn { get; private set; }

    public uint NextPsn { get; private set; }
    public uint ExpectedPsn { get; private set; }
    public uint Msn { get; private set; }
    public long RetransmitDeadline { get; private set; } = long.MaxValue;
    public long RnrDeadline { get; private set; } = long.MaxValue;

    public int SqOutstanding => (int)(_sqEnd - _sqFirst);
    public int RqOutstanding => (int)(_rqEnd - _rqFirst);

    private SendWqe Sq(long position) => _sq[position % _sq.Length];

    public long NextDeadline => State is RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD ? Math.Min(RetransmitDeadline, RnrDeadline) : long.MaxValue;

    public bool HasWork =>
        State == RdmaQpState.RDMA_QPS_ERR ? SqOutstanding + RqOutstanding > 0
        : (State is RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD) && RnrDeadline == long.MaxValue && _sendPos < _sqEnd && (Sq(_sendPos).Started || State == RdmaQpState.RDMA_QPS_RTS);

    internal static int PsnDiff(uint a, uint b) => (int)((a - b) << 8) >> 8;

    /// <summary>(Re)targets the QP (rdma_connect or the loopback default): attributes set, both PSN streams restarted, state RTS.</summary>
    public void ConnectTo(uint peerIp, uint destQpn, RdmaConnectOptions? o)
    {
        PeerIp = peerIp;
        DestQpn = destQpn;
        SourcePort = RoceV2.SourcePort(Qpn, destQpn);
        Mtu = o?.PathMtu ?? 1024;
        SqPsn = (uint)(o?.SqPsn ?? 0);
        RqPsn = (uint)(o?.RqPsn ?? 0);
        RetryCnt = o?.RetryCnt ?? 6;
        RnrRetry = o?.RnrRetry ?? 7;
        MinRnrTimer = o?.MinRnrTimer ?? 12;
        Timeout = o?.Timeout ?? 14;
        ResetStreams();
        State = RdmaQpState.RDMA_QPS_RTS;
    }

    private void ResetStreams()
    {
        NextPsn = _sentHigh = SqPsn;
        ExpectedPsn = RqPsn;
        Msn = 0;
        _inMsg = 0;
        _psnNakSent = false;
        _retries = _rnrTries = 0;
        _sendPacket = 0;
        _sendPos = _sqFirst;
        RetransmitDeadline = RnrDeadline = long.MaxValue;
    }

    // ---- posting ----

    public long NextWrId()
    {
        long id = _nextWrId;
        _nextWrId = _nextWrId == int.MaxValue ? 0 : _nextWrId + 1;
        return id;
    }

    public bool SqFull => SqOutstanding >= _sq.Length;
    public bool RqFull => RqOutstanding >= _rq.Length;

    public long PostSend(int kind, int mrHandle, ulong offset, ulong remoteAddr, uint rkey, ulong length)
    {
        SendWqe w = Sq(_sqEnd++);
        w.WrId = NextWrId();
        w.Kind = kind;
        w.MrHandle = mrHandle;
        w.Offset = offset;
        w.RemoteAddr = remoteAddr;
        w.Rkey = rkey;
        w.Length = length;
        w.Started = false;
        w.Mr = null;
        return w.WrId;
    }

    public long PostRecv(int mrHandle, ulong length)
    {
        long id = NextWrId();
        _rq[_rqEnd++ % _rq.Length] = new RecvWqe { WrId = id, MrHandle = mrHandle, Length = length };
        return id;
    }

    // ---- requester ----

    private uint OldestUnackedPsn => _sqFirst < _sqEnd && Sq(_sqFirst).Started ? Sq(_sqFirst).FirstPsn : NextPsn;

    public bool RunRequester()
    {
        if (State == RdmaQpState.RDMA_QPS_ERR)
        {
            if (SqOutstanding + RqOutstanding == 0) return false;
            Flush();
            return true;
        }
        if (State is not (RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD) || RnrDeadline != long.MaxValue) return false;
        bool moved = false;
        while (_sendPos < _sqEnd && State != RdmaQpState.RDMA_QPS_ERR)
        {
            if (PsnDiff(NextPsn, OldestUnackedPsn) >= 128) break;
            SendWqe w = Sq(_sendPos);
            if (!w.Started)
            {
                if (State == RdmaQpState.RDMA_QPS_SQD) break;
                if (w.Length > 0)
                {
                    Mr? mr = Owner.MrOf(w.MrHandle);
                    if (mr is null || !mr.Valid || w.Offset > mr.Length || w.Length > mr.Length - w.Offset)
                    {
                        EnterError(w, RdmaWcStatus.RDMA_WC_LOC_PROT_ERR);
                        return true;
                    }
                    w.Mr = mr;
                }
                w.Started = true;
                w.FirstPsn = NextPsn;
                w.Packets = (int)Math.Max(1, (w.Length + (ulong)Mtu - 1) / (ulong)Mtu);
            }
            if (!SendPacket(w, _sendPacket)) return true;
            NextPsn = (NextPsn + 1) & 0xFFFFFF;
            if (PsnDiff(NextPsn, _sentHigh) > 0) _sentHigh = NextPsn;
            if (++_sendPacket == w.Packets)
            {
                _sendPos++;
                _sendPacket = 0;
            }
            if (RetransmitDeadline == long.MaxValue) RetransmitDeadline = Device.Fabric.NowNs + TimeoutNs;
            moved = true;
        }
        return moved;
    }

    private long TimeoutNs => (long)(4096L << Timeout);

    private bool SendPacket(SendWqe w, int k)
    {
        bool write = w.Kind == RdmaWcOpcode.RDMA_WC_RDMA_WRITE;
        int count = w.Packets;
        int plen = w.Length == 0 ? 0 : k < count - 1 ? Mtu : (int)(w.Length - (ulong)(count - 1) * (ulong)Mtu);
        byte op = count == 1 ? (write ? RoceV2.WriteOnly : RoceV2.SendOnly)
            : k == 0 ? (write ? RoceV2.WriteFirst : RoceV2.SendFirst)
            : k == count - 1 ? (write ? RoceV2.WriteLast : RoceV2.SendLast)
            : write ? RoceV2.WriteMiddle : RoceV2.SendMiddle;
        ReadOnlySpan<byte> reth = [];
        if (write && k == 0)
        {
            BinaryPrimitives.WriteUInt64BigEndian(_reth, w.RemoteAddr);
            BinaryPrimitives.WriteUInt32BigEndian(_reth.AsSpan(8), w.Rkey);
            BinaryPrimitives.WriteUInt32BigEndian(_reth.AsSpan(12), (uint)w.Length);
            reth = _reth;
        }
        ReadOnlySpan<byte> payload = [];
        if (plen > 0)
        {
            if (Device.TryDma(w.Mr!, w.Mr!.Addr + w.Offset + (ulong)k * (ulong)Mtu, plen, write: false, out Span<byte> bytes) != Memory.DmaError.None)
            {
                // the memory under the MR left the function's domain or the script (a DMA fault), or the MR was deregistered
                EnterError(w, RdmaWcStatus.RDMA_WC_LOC_PROT_ERR);
                return false;
            }
            payload = bytes;
        }
        Device.Send(this, op, (w.FirstPsn + (uint)k) & 0xFFFFFF, k == count - 1, reth, [], payload);
        return true;
    }

    /// <summary>Go-back-N: the next packet sent is <paramref name="psn"/> (a PSN of a started, unacknowledged WQE).</summary>
    private void Rewind(uint psn)
    {
        for (long p = _sqFirst; p < _sqEnd; p++)
        {
            SendWqe w = Sq(p);
            if (!w.Started) break;
            int d = PsnDiff(psn, w.FirstPsn);
            if (d >= 0 && d < w.Packets)
            {
                _sendPos = p;
                _sendPacket = d;
                NextPsn = psn;
                return;
            }
        }
    }

    // ---- completer ----

    /// <summary>An ACK or NAK for <paramref name="psn"/> with AETH syndrome <paramref name="syndrome"/>.</summary>
    public void OnResponse(uint psn, byte syndrome)
    {
        int type = syndrome >> 5;
        if (type == 0)
        {
            AckThrough(psn);
            return;
        }
        AckThrough((psn - 1) & 0xFFFFFF); // a NAK acknowledges everything before it
        if (type == 1)
        {
            if (RnrRetry != 7 && _rnrTries >= RnrRetry)
            {
                if (WqeOf(psn) is { } failed) EnterError(failed, RdmaWcStatus.RDMA_WC_RNR_RETRY_EXC_ERR);
                return;
            }
            _rnrTries++;
            Rewind(psn);
            RnrDeadline = Device.Fabric.NowNs + RnrMicros[syndrome & 0x1F] * 1000;
            RetransmitDeadline = long.MaxValue;
            return;
        }
        if (type != 3) return;
        int code = syndrome & 0x1F;
        if (code == 0)
        {
            Device.Retransmissions++;
            Rewind(psn);
            return;
        }
        if (WqeOf(psn) is not { } w) return;
        EnterError(w, code switch
        {
            2 => RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR,
            3 => RdmaWcStatus.RDMA_WC_REM_OP_ERR,
            _ => RdmaWcStatus.RDMA_WC_REM_INV_REQ_ERR,
        });
    }

    private SendWqe? WqeOf(uint psn)
    {
        for (long p = _sqFirst; p < _sqEnd; p++)
        {
            SendWqe w = Sq(p);
            if (!w.Started) return null;
            int d = PsnDiff(psn, w.FirstPsn);
            if (d >= 0 && d < w.Packets) return w;
        }
        return null;
    }

    /// <summary>An ACK for <paramref name="psn"/> completes every WQE whose last packet is at or before it (and was sent).</summary>
    private void AckThrough(uint psn)
    {
        bool progress = false;
        while (_sqFirst < _sqEnd)
        {
            SendWqe w = Sq(_sqFirst);
            if (!w.Started) break;
            uint lastPsn = (w.FirstPsn + (uint)w.Packets - 1) & 0xFFFFFF;
            if (PsnDiff(psn, lastPsn) < 0 || PsnDiff(lastPsn, _sentHigh) >= 0) break;
            Complete(recv: false, w.WrId, RdmaWcStatus.RDMA_WC_SUCCESS, w.Kind, w.Length);
            _sqFirst++;
            if (_sendPos < _sqFirst)
            {
                _sendPos = _sqFirst; // it was being sent again after a rewind: the responder had it already
                _sendPacket = 0;
                NextPsn = (lastPsn + 1) & 0xFFFFFF;
            }
            progress = true;
        }
        if (!progress) return;
        _retries = 0;
        _rnrTries = 0;
        RetransmitDeadline = _sqFirst < _sqEnd && Sq(_sqFirst).Started ? Device.Fabric.NowNs + TimeoutNs : long.MaxValue;
    }

    public void FireTimers(long now)
    {
        if (State is not (RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD)) return;
        if (RnrDeadline <= now)
        {
            RnrDeadline = long.MaxValue;
            Device.Retransmissions++;
        }
        if (RetransmitDeadline > now) return;
        if (_sqFirst >= _sqEnd || !Sq(_sqFirst).Started)
        {
            RetransmitDeadline = long.MaxValue;
            return;
        }
        if (RetryCnt != 7 && _retries >= RetryCnt)
        {
            EnterError(Sq(_sqFirst), RdmaWcStatus.RDMA_WC_RETRY_EXC_ERR);
            return;
        }
        _retries++;
        Device.Retransmissions++;
        Rewind(Sq(_sqFirst).FirstPsn);
        RetransmitDeadline = now + TimeoutNs;
    }

    // ---- responder ----

    public void OnRequest(ReadOnlySpan<byte> f, in RoceV2.Layout l, uint psn, bool ackReq)
    {
        int diff = PsnDiff(psn, ExpectedPsn);
        if (diff > 0)
        {
            if (!_psnNakSent)
            {
                SendAck(RoceV2.NakPsnSeq, ExpectedPsn);
                _psnNakSent = true;
            }
            return;
        }
        if (diff < 0)
        {
            SendAck(RoceV2.SyndromeAck, (ExpectedPsn - 1) & 0xFFFFFF); // a duplicate: acknowledged, not executed again
            return;
        }
        _psnNakSent = false;
        byte op = l.Opcode;
        bool send = op is RoceV2.SendFirst or RoceV2.SendMiddle or RoceV2.SendLast or RoceV2.SendOnly;
        bool write = op is RoceV2.WriteFirst or RoceV2.WriteMiddle or RoceV2.WriteLast or RoceV2.WriteOnly;
        bool first = op is RoceV2.SendFirst or RoceV2.SendOnly or RoceV2.WriteFirst or RoceV2.WriteOnly;
        bool last = op is RoceV2.SendLast or RoceV2.SendOnly or RoceV2.WriteLast or RoceV2.WriteOnly;
        bool only = op is RoceV2.SendOnly or RoceV2.WriteOnly;
        int plen = l.PayloadLength;
        bool lengthOk = only ? plen <= Mtu : last ? plen >= 1 && plen <= Mtu : plen == Mtu;
        if (!(send || write) || (first ? _inMsg != 0 : _inMsg != (send ? 1 : 2)) || !lengthOk)
        {
            Nak(RoceV2.NakInvalidRequest, psn, recvStatus: null);
            return;
        }
        ReadOnlySpan<byte> payload = f.Slice(l.PayloadAt, plen);
        if (send)
        {
            if (first)
            {
                if (RqOutstanding == 0)
                {
                    SendAck((byte)(RoceV2.SyndromeRnr | MinRnrTimer), psn);
                    Device.RnrNaksSent++;
                    return;
                }
                _msgOffset = 0;
            }
            RecvWqe r = _rq[_rqFirst % _rq.Length];
            if (_msgOffset + (ulong)plen > r.Length)
            {
                Nak(RoceV2.NakInvalidRequest, psn, RdmaWcStatus.RDMA_WC_LOC_LEN_ERR);
                return;
            }
            if (plen > 0)
            {
                Mr? mr = Owner.MrOf(r.MrHandle);
                if (mr is null || !mr.Valid || (mr.Access & RdmaAccess.RDMA_ACCESS_LOCAL_WRITE) == 0 || r.Length > mr.Length
                    || Device.TryDma(mr, mr.Addr + _msgOffset, plen, write: true, out Span<byte> into) != Memory.DmaError.None)
                {
                    Nak(RoceV2.NakRemoteOp, psn, RdmaWcStatus.RDMA_WC_LOC_PROT_ERR);
                    return;
                }
                payload.CopyTo(into);
            }
            _msgOffset += (ulong)plen;
            _inMsg = last ? 0 : 1;
            if (last)
            {
                _rqFirst++;
                Msn = (Msn + 1) & 0xFFFFFF;
                Complete(recv: true, r.WrId, RdmaWcStatus.RDMA_WC_SUCCESS, RdmaWcOpcode.RDMA_WC_RECV, _msgOffset);
            }
        }
        else
        {
            if (first)
            {
                ReadOnlySpan<byte> reth = f.Slice(l.ExtAt, RoceV2.Reth);
                ulong va = BinaryPrimitives.ReadUInt64BigEndian(reth);
                uint rkey = BinaryPrimitives.ReadUInt32BigEndian(reth[8..]);
                uint dmaLength = BinaryPrimitives.ReadUInt32BigEndian(reth[12..]);
                Mr? target = dmaLength > 0 ? Device.Lookup(rkey, Owner, RdmaAccess.RDMA_ACCESS_REMOTE_WRITE, va, dmaLength) : null;
                if (dmaLength > 0 && target is null)
                {
                    Nak(RoceV2.NakRemoteAccess, psn, recvStatus: null);
                    return;
                }
                _writeMr = target;
                _writeVa = va;
                _writeRemaining = dmaLength;
            }
            if ((ulong)plen > _writeRemaining || (last && (ulong)plen != _writeRemaining))
            {
                Nak(RoceV2.NakInvalidRequest, psn, recvStatus: null);
                return;
            }
            if (plen > 0)
            {
                if (_writeMr is null || Device.TryDma(_writeMr, _writeVa, plen, write: true, out Span<byte> into) != Memory.DmaError.None)
                {
                    Nak(RoceV2.NakRemoteAccess, psn, recvStatus: null);
                    return;
                }
                payload.CopyTo(into);
            }
            _writeVa += (ulong)plen;
            _writeRemaining -= (ulong)plen;
            _inMsg = last ? 0 : 2;
            if (last) Msn = (Msn + 1) & 0xFFFFFF;
        }
        ExpectedPsn = (psn + 1) & 0xFFFFFF;
        if (ackReq) SendAck(RoceV2.SyndromeAck, psn);
    }

    /// <summary>A fatal NAK: answered on the wire, the receive at the head (if any) completes with <paramref name="recvStatus"/>, the QP goes to ERR.</summary>
    private void Nak(byte syndrome, uint psn, int? recvStatus)
    {
        SendAck(syndrome, psn);
        Device.NaksSent++;
        if (recvStatus is { } status && RqOutstanding > 0)
        {
            RecvWqe r = _rq[_rqFirst++ % _rq.Length];
            Complete(recv: true, r.WrId, status, RdmaWcOpcode.RDMA_WC_RECV, 0);
        }
        if (PeerIp == Device.Ip && DestQpn == Qpn) OnResponse(psn, syndrome); // connected to itself: the requester is this QP, before ERR drops the NAK
        EnterError(null, 0);
    }

    private void SendAck(byte syndrome, uint psn)
    {
        _aeth[0] = syndrome;
        _aeth[1] = (byte)(Msn >> 16);
        _aeth[2] = (byte)(Msn >> 8);
        _aeth[3] = (byte)Msn;
        if (syndrome == RoceV2.SyndromeAck) Device.AcksSent++;
        Device.Send(this, RoceV2.Acknowledge, psn, false, [], _aeth, []);
    }

    // ---- errors, flush, states ----

    /// <summary>Enters ERR (§4.4): the failing WR completes first, then receives, then the other sends flush in post order.</summary>
    public void EnterError(SendWqe? failed, int status)
    {
        if (failed is not null) Complete(recv: false, failed.WrId, status, failed.Kind, 0);
        State = RdmaQpState.RDMA_QPS_ERR;
        Flush(failed);
        RetransmitDeadline = RnrDeadline = long.MaxValue;
        _inMsg = 0;
    }

    private void Flush(SendWqe? except = null)
    {
        for (long p = _rqFirst; p < _rqEnd; p++)
            Complete(recv: true, _rq[p % _rq.Length].WrId, RdmaWcStatus.RDMA_WC_WR_FLUSH_ERR, RdmaWcOpcode.RDMA_WC_RECV, 0);
        _rqFirst = _rqEnd;
        for (long p = _sqFirst; p < _sqEnd; p++)
        {
            SendWqe w = Sq(p);
            if (w != except) Complete(recv: false, w.WrId, RdmaWcStatus.RDMA_WC_WR_FLUSH_ERR, w.Kind, 0);
        }
        _sqFirst = _sendPos = _sqEnd;
        _sendPacket = 0;
    }

    /// <summary><c>rdma_modify_qp</c> after the transition table was checked.</summary>
    public void MoveTo(int state)
    {
        if (state == RdmaQpState.RDMA_QPS_ERR)
        {
            if (State != RdmaQpState.RDMA_QPS_ERR) EnterError(null, 0);
            return;
        }
        if (state == RdmaQpState.RDMA_QPS_RESET)
        {
            _sqFirst = _sendPos = _sqEnd;
            _rqFirst = _rqEnd;
            ResetStreams();
        }
        State = state;
    }

    private void Complete(bool recv, long wrId, int status, int opcode, ulong length)
    {
        if (Overrun) return;
        RdmaCompletion[] cq = recv ? _rcq : _scq;
        ref int count = ref recv ? ref _rcqCount : ref _scqCount;
        int head = recv ? _rcqHead : _scqHead;
        if (count == cq.Length)
        {
            Overrun = true; // the completion is lost, the QP goes to ERR and its later completions are discarded
            if (State != RdmaQpState.RDMA_QPS_ERR) EnterError(null, 0);
            return;
        }
        cq[(head + count) % cq.Length] = new RdmaCompletion { WrId = wrId, Status = status, Opcode = opcode, ByteLen = status == 0 ? length : 0, Seq = _seq++ };
        count++;
    }

    /// <summary>Oldest completions first across both CQs; returns how many were copied.</summary>
    public int Poll(Span<RdmaCompletion> into)
    {
        int n = 0;
        while (n < into.Length && (_scqCount > 0 || _rcqCount > 0))
        {
            bool recv = _scqCount == 0 || (_rcqCount > 0 && _rcq[_rcqHead].Seq < _scq[_scqHead].Seq);
            if (recv)
            {
                into[n++] = _rcq[_rcqHead];
                _rcqHead = (_rcqHead + 1) % _rcq.Length;
                _rcqCount--;
            }
            else
            {
                into[n++] = _scq[_scqHead];
                _scqHead = (_scqHead + 1) % _scq.Length;
                _scqCount--;
            }
        }
        return n;
    }

    public bool CqsEmpty => _scqCount == 0 && _rcqCount == 0;
}
