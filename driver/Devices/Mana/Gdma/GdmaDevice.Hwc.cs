using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;
using static NicScript.Driver.Devices.Mana.ManaRegisters;
using static NicScript.Driver.Devices.Mana.Gdma.GdmaAnswer;

namespace NicScript.Driver.Devices.Mana.Gdma;

internal sealed partial class GdmaDevice
{
    private readonly Dictionary<(GdmaQueueType, uint), GdmaQueue> _queues = new();
    private readonly Dictionary<ulong, GdmaDmaRegion> _regions = new();
    private readonly uint[] _nextQueueId = new uint[5];
    private readonly Queue<byte[]> _pendingResponses = new();
    private readonly byte[] _request = new byte[HwcMessageSize];
    private ulong _nextRegionHandle;
    private GdmaQueue? _hwcEq, _hwcCq, _hwcRq, _hwcSq;
    private bool _registered;

    public bool Registered
    {
        get
        {
            lock (_sync) return _registered;
        }
    }

    private void ResetLocked()
    {
        _queues.Clear();
        _regions.Clear();
        _pendingResponses.Clear();
        Array.Clear(_nextQueueId);
        _hwcEq = _hwcCq = _hwcRq = _hwcSq = null;
        _registered = false;
        HwcUp = false;
        _client?.Reset();
    }

    // ---- shared-memory channel (gdma.md §3) ------------------------------------------------------------------------

    private void ShmMessageLocked()
    {
        Span<byte> shm = stackalloc byte[ShmSize];
        for (int i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32LittleEndian(shm[(4 * i)..], _shm[i]);
        uint type = 0, version = 0, status = 1;
        if (SmcProtoHdrView.TryRead(shm[28..], out SmcProtoHdrView hdr) == WireError.None && !hdr.Direction && !hdr.OwnerIsPf)
        {
            type = hdr.MsgType;
            version = hdr.MsgVersion;
            if (hdr.ResetVf) ResetLocked();
            status = type switch
            {
                1 when version == 0 => EstablishHwcLocked(shm) ? 0u : 1u,
                2 when version == 0 => DestroyHwcLocked(),
                _ => 1u,
            };
        }
        else Fault("shm-bad-header", $"dword 7 = 0x{_shm[7]:x8}");
        // The answer: same type, version 0, direction 1 (response), status; owner_is_pf clear hands the aperture back.
        _shm[7] = (type & 7) | 1u << 7 | (status & 0xFF) << 8;
        if (status == 0 && type == 1) PostBootstrapEventsLocked();
    }

    private bool EstablishHwcLocked(ReadOnlySpan<byte> shm)
    {
        if (HwcUp)
        {
            Fault("shm-establish-twice", "the HWC is already established");
            return false;
        }
        ushort high = BinaryPrimitives.ReadUInt16LittleEndian(shm[24..]);
        ushort vector = BinaryPrimitives.ReadUInt16LittleEndian(shm[26..]);
        if (vector >= Msix.Count)
        {
            Fault("shm-bad-vector", $"MSI-X {vector} of {Msix.Count}");
            return false;
        }
        var queues = new GdmaDmaRegion[4]; // EQ, CQ, RQ, SQ
        for (int q = 0; q < 4; q++)
        {
            ulong frame = ReadU48(shm[(6 * q)..]) | (ulong)(high >> (4 * q) & 0xF) << 48;
            if (!TryMapPages([frame << 12], PageSize, out queues[q]))
            {
                Fault("shm-bad-queue-page", $"queue {q} frame 0x{frame:x} is not 4 KiB of DMA memory");
                return false;
            }
        }
        _hwcEq = AddQueue(GdmaQueueType.Eq, HwcQueueId, queues[0], PageSize, HwcDoorbellPage);
        _hwcEq.MsixIndex = vector;
        _hwcCq = AddQueue(GdmaQueueType.Cq, HwcQueueId, queues[1], PageSize, HwcDoorbellPage);
        _hwcCq.Parent = _hwcEq;
        _hwcCq.Armed = true; // Linux's mana arms the HWC CQ only after its first completion: the first one must raise an event
        _hwcRq = AddQueue(GdmaQueueType.Rq, HwcQueueId, queues[2], PageSize, HwcDoorbellPage);
        _hwcRq.Parent = _hwcCq;
        _hwcSq = AddQueue(GdmaQueueType.Sq, HwcQueueId, queues[3], PageSize, HwcDoorbellPage);
        _hwcSq.Parent = _hwcCq;
        for (int t = 1; t < 5; t++) _nextQueueId[t] = HwcQueueId + 1;
        HwcUp = true;
        return true;
    }

    private uint DestroyHwcLocked()
    {
        if (!HwcUp) return 1;
        foreach (GdmaQueue? q in new[] { _hwcEq, _hwcCq, _hwcRq, _hwcSq }) if (q is not null) RemoveQueue(q);
        _hwcEq = _hwcCq = _hwcRq = _hwcSq = null;
        _pendingResponses.Clear();
        HwcUp = false;
        return 0;
    }

    /// <summary>Bootstrap events on the HWC EQ; INIT_DONE raises the EQ's vector (the one the SHM message named).</summary>
    private void PostBootstrapEventsLocked()
    {
        GdmaQueue eq = _hwcEq!;
        PostEqeLocked(eq, GdmaEqeType.HwcInitEqIdDb, (uint)(HwcQueueId | HwcDoorbellPage << 16), force: false);
        ReadOnlySpan<uint> items =
        [
            1u << 24 | HwcQueueId, 2u << 24 | HwcQueueId, 3u << 24 | HwcQueueId, 4u << 24 | 1, // CQ, RQ, SQ ids; queue depth 1
            5u << 24 | HwcMessageSize, 6u << 24 | HwcMessageSize, 7u << 24 | MaxQueuesPerKind, // max request/response, max CQs
            8u << 24 | PdId, 9u << 24 | GpaMkey,
        ];
        foreach (uint item in items) PostEqeLocked(eq, GdmaEqeType.HwcInitData, item, force: false);
        PostEqeLocked(eq, GdmaEqeType.HwcInitDone, 0, force: true);
    }

    private static ulong ReadU48(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32LittleEndian(b) | (ulong)BinaryPrimitives.ReadUInt16LittleEndian(b[4..]) << 32;

    private bool TryMapPages(ReadOnlySpan<ulong> pages, ulong length, out GdmaDmaRegion region)
    {
        region = null!;
        var regions = new DmaRegion[pages.Length];
        var offsets = new int[pages.Length];
        for (int i = 0; i < pages.Length; i++)
        {
            if (pages[i] % PageSize != 0 || _dma.TryLocate(pages[i], PageSize, write: true, out regions[i], out offsets[i]) != DmaError.None) return false;
        }
        region = new GdmaDmaRegion(0, length, regions, offsets, _dma);
        return true;
    }

    internal GdmaQueue AddQueue(GdmaQueueType type, uint id, GdmaDmaRegion region, int size, int doorbellPage)
    {
        var q = new GdmaQueue(type, id, region, size, doorbellPage);
        _queues[(type, id)] = q;
        region.Users++;
        return q;
    }

    internal void RemoveQueue(GdmaQueue q)
    {
        if (_queues.Remove((q.Type, q.Id))) q.Region.Users--;
        q.Failed = true;
    }

    internal bool TryFindQueue(GdmaQueueType type, uint id, out GdmaQueue? q) => _queues.TryGetValue((type, id), out q);

    // ---- event and completion entries (gdma.md §6) -----------------------------------------------------------------

    /// <summary>Writes an EQE (details, then the info word with owner bits last) and raises the EQ's vector if armed or forced.</summary>
    private void PostEqeLocked(GdmaQueue eq, GdmaEqeType type, uint detail0, bool force)
    {
        OwnerBitRing<GdmaRingMemory> ring = eq.Ring!;
        Span<byte> e = ring.Next();
        if (e.IsEmpty)
        {
            Interlocked.Increment(ref Stats.EqOverflows);
            Fault("eq-memory-gone", $"EQ {eq.Id}");
            return;
        }
        e[..12].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(e, detail0);
        ring.Publish(e, (uint)type); // the info word with its owner bits, release: details first
        if (eq.Armed || force)
        {
            eq.Armed = false;
            Msix.Vector(eq.MsixIndex).Signal();
        }
    }

    /// <summary>Writes a CQE: 60 bytes of completion data, then cqe_info (wq_num, is_sq, owner bits) last.</summary>
    internal void PostCqeLocked(GdmaQueue cq, ReadOnlySpan<byte> data, uint wqNum, bool isSq)
    {
        OwnerBitRing<GdmaRingMemory> ring = cq.Ring!;
        Span<byte> e = ring.Next();
        if (e.IsEmpty)
        {
            Fault("cq-memory-gone", $"CQ {cq.Id}");
            return;
        }
        e[..60].Clear();
        data.CopyTo(e);
        ring.Publish(e, wqNum & 0xFF_FFFF | (isSq ? 1u << 24 : 0));
    }

    /// <summary>The next CQE's 60-byte completion data area, zeroed, for the client to fill in place before
    /// <see cref="PublishCqeLocked"/>; empty (reported) when the CQ's page left the domain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<byte> NextCqeLocked(GdmaQueue cq)
    {
        Span<byte> e = cq.Ring!.Next();
        if (e.Length < CqeSize) return CqeGone(cq);
        Unsafe.InitBlockUnaligned(ref e[0], 0, 60); // a fixed size: cleared in a few stores, no call
        return e;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Span<byte> CqeGone(GdmaQueue cq)
    {
        Fault("cq-memory-gone", $"CQ {cq.Id}");
        return Span<byte>.Empty;
    }

    /// <summary>Ends the CQE <see cref="NextCqeLocked"/> gave: cqe_info (wq_num, is_sq, owner bits) written last.</summary>
    internal void PublishCqeLocked(GdmaQueue cq, Span<byte> entry, uint wqNum, bool isSq) =>
        cq.Ring!.Publish(entry, wqNum & 0xFF_FFFF | (isSq ? 1u << 24 : 0));

    /// <summary>The head a driver that has seen every entry puts in its arming doorbell: its head starts at the ring's
    /// entry count (gdma.md §6), so the producer's count is offset by it. Compared without the offset, every arm looked
    /// like unseen entries and raised an event with nothing behind it (Linux: WARNING in mana_hwc_comp_event).</summary>
    private static ulong ProducerHead(GdmaQueue q) => (ulong)((q.Produced + q.Ring!.Count) % (q.Ring.Count * 8L));

    /// <summary>After a batch of CQEs: an armed CQ posts one COMPLETION event on its EQ (details[0] = CQ id).</summary>
    internal void NotifyLocked(GdmaQueue cq)
    {
        if (!cq.Armed || cq.Parent is not { } eq) return;
        cq.Armed = false;
        PostEqeLocked(eq, GdmaEqeType.Completion, cq.Id & 0xFF_FFFF, force: false);
    }

    // ---- doorbells (gdma.md §2) --------------------------------------------------------------------------------------

    private void Doorbell(int page, int slot, ulong value)
    {
        Span<byte> raw = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, value);
        lock (_sync)
        {
            if (_removed) return;
            switch (slot)
            {
                case SqDoorbell when GdmaDoorbellEntrySqView.TryRead(raw, out var sq) == WireError.None:
                    if (Find(GdmaQueueType.Sq, sq.Id, page) is { } s && Advance(s, sq.TailPtr))
                    {
                        if (s == _hwcSq) HwcProcessLocked();
                        else _client?.ProcessSq(s);
                    }
                    return;
                case RqDoorbell when GdmaDoorbellEntryRqView.TryRead(raw, out var rq) == WireError.None:
                    if (Find(GdmaQueueType.Rq, rq.Id, page) is { } r && Advance(r, rq.TailPtr) && r == _hwcRq) FlushResponsesLocked();
                    return;
                case CqDoorbell when GdmaDoorbellEntryCqView.TryRead(raw, out var cq) == WireError.None:
                    if (Find(GdmaQueueType.Cq, cq.Id, page) is { } c)
                    {
                        c.Armed = cq.Arm;
                        if (cq.Arm && ProducerHead(c) != cq.TailPtr) NotifyLocked(c); // entries the driver has not seen: no lost wake-up
                    }
                    return;
                case EqDoorbell when GdmaDoorbellEntryEqView.TryRead(raw, out var eqd) == WireError.None:
                    if (Find(GdmaQueueType.Eq, eqd.Id, page) is { } eq)
                    {
                        eq.Armed = eqd.Arm;
                        if (eqd.Arm && ProducerHead(eq) != eqd.TailPtr)
                        {
                            eq.Armed = false;
                            Msix.Vector(eq.MsixIndex).Signal();
                        }
                    }
                    return;
            }
            Interlocked.Increment(ref Stats.BadDoorbells);
            Fault("doorbell-malformed", $"page {page} slot 0x{slot:x} value 0x{value:x16}");
        }
    }

    private GdmaQueue? Find(GdmaQueueType type, uint id, int page)
    {
        if (_queues.TryGetValue((type, id), out GdmaQueue? q) && q.DoorbellPage == page && !q.Failed) return q;
        Interlocked.Increment(ref Stats.UnknownDoorbells);
        return null;
    }

    /// <summary>A work queue's new producer offset: a running byte count that may not run ahead of the ring or split a BU.</summary>
    private bool Advance(GdmaQueue q, uint tail)
    {
        uint ahead = tail - q.Head;
        if (ahead > (uint)q.Size || ahead % WqeBu != 0)
        {
            Interlocked.Increment(ref Stats.BadDoorbells);
            Fault("doorbell-runs-ahead", $"{q}: tail {tail}, device head {q.Head}");
            return false;
        }
        q.Tail = tail;
        return true;
    }

    // ---- the hardware channel (gdma.md §4) ----------------------------------------------------------------------------

    private void HwcProcessLocked()
    {
        GdmaQueue sq = _hwcSq!;
        Span<byte> wqe = stackalloc byte[64];
        while (sq.Head != sq.Tail && HwcUp)
        {
            uint at = sq.Head;
            bool framed = sq.Region.TryCopyRing(at % (uint)sq.Size, sq.Size, wqe[..8]) &&
                GdmaWqeView.TryRead(wqe, out GdmaWqeView hdr) == WireError.None && hdr.NumSge == 1 && hdr.InlineOobSizeDiv4 == 6;
            if (!framed || !sq.Region.TryCopyRing(at % (uint)sq.Size, sq.Size, wqe))
            {
                // Malformed framing: complete with an error and drop everything up to the tail (its size is unknown).
                sq.Head = sq.Tail;
                Interlocked.Increment(ref Stats.HwcErrors);
                Fault("hwc-malformed-wqe", $"HWC SQ offset {at}");
                PostCqeLocked(_hwcCq!, HwcRxOob(vendorErr: 1, 0, 0), sq.Id, isSq: true);
                break;
            }
            sq.Head += 64;
            int length = 0;
            bool ok = HwcTxOobView.TryRead(wqe[8..], out _) == WireError.None && GdmaSgeView.TryRead(wqe[32..], out GdmaSgeView sge) == WireError.None &&
                sge.MemKey == GpaMkey && sge.Size is >= 40 and <= HwcMessageSize &&
                _dma.TryRead(sge.Address, _request.AsSpan(0, length = (int)sge.Size)) == DmaError.None;
            PostCqeLocked(_hwcCq!, HwcRxOob(vendorErr: ok ? (byte)0 : (byte)2, 0, 0), sq.Id, isSq: true);
            if (!ok)
            {
                Interlocked.Increment(ref Stats.HwcErrors);
                Fault("hwc-bad-request-buffer", $"HWC SQ offset {at}");
                continue;
            }
            Interlocked.Increment(ref Stats.HwcRequests);
            byte[] response = HandleRequestLocked(_request.AsSpan(0, length));
            if (BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(24)) != StatusSuccess) Interlocked.Increment(ref Stats.HwcErrors);
            _pendingResponses.Enqueue(response);
        }
        FlushResponsesLocked();
        NotifyLocked(_hwcCq!);
    }

    private static byte[] HwcRxOob(byte vendorErr, uint wqeOffset, uint size)
    {
        var oob = new byte[32];
        var w = new HwcRxOobWriter(oob);
        w.Som = true;
        w.Eom = true;
        w.VendorErr = vendorErr;
        w.WqeOffset = wqeOffset;
        w.TxOobDataSize = size;
        return oob;
    }

    /// <summary>Answers pending responses into posted HWC RQ WQEs, one CQE each.</summary>
    private void FlushResponsesLocked()
    {
        GdmaQueue? rq = _hwcRq;
        if (rq is null) return;
        Span<byte> wqe = stackalloc byte[32];
        bool any = false;
        while (_pendingResponses.Count > 0 && rq.Head != rq.Tail)
        {
            uint at = rq.Head;
            rq.Head += 32;
            byte[] response = _pendingResponses.Dequeue();
            any = true;
            bool ok = rq.Region.TryCopyRing(at % (uint)rq.Size, rq.Size, wqe) &&
                GdmaWqeView.TryRead(wqe, out GdmaWqeView hdr) == WireError.None && hdr.NumSge == 1 && hdr.InlineOobSizeDiv4 == 2 &&
                BinaryPrimitives.ReadUInt64LittleEndian(wqe[8..]) == 0 &&
                GdmaSgeView.TryRead(wqe[16..], out GdmaSgeView sge) == WireError.None && sge.MemKey == GpaMkey && sge.Size >= response.Length &&
                _dma.TryWrite(sge.Address, response) == DmaError.None;
            if (!ok)
            {
                Interlocked.Increment(ref Stats.HwcErrors);
                Fault("hwc-bad-rq-wqe", $"HWC RQ offset {at}");
            }
            PostCqeLocked(_hwcCq!, HwcRxOob(ok ? (byte)0 : (byte)3, at % (uint)rq.Size, ok ? (uint)response.Length : 0), rq.Id, isSq: false);
        }
        if (any) NotifyLocked(_hwcCq!);
    }

    private byte[] HandleRequestLocked(ReadOnlySpan<byte> req)
    {
        uint msgType = BinaryPrimitives.ReadUInt32LittleEndian(req[4..]);
        uint msgSize = BinaryPrimitives.ReadUInt32LittleEndian(req[12..]);
        var ctx = new GdmaAnswer(req);
        if (msgSize < GdmaReqHdrView.WireSize || msgSize > req.Length) return ctx.Fail(StatusLengthMismatch);
        req = req[..(int)msgSize];
        if (GdmaReqHdrView.TryRead(req, out GdmaReqHdrView hdr) != WireError.None)
            return ctx.Fail(GdmaSets.Contains(GdmaRule.Req, msgType) ? StatusInvalidParameter : StatusCmdUnsupported);
        IGdmaClient? client = _client is { } c && hdr.DevIdType == c.DeviceType && hdr.DevIdInstance == 0 ? c : null;
        switch (msgType)
        {
            case (uint)GdmaRequestType.VerifyVfDriverVersion:
                if (GdmaVerifyVerReqView.TryRead(req, out var ver) != WireError.None) return ctx.Fail(Invalid(req, GdmaVerifyVerReqView.WireSize));
                if (ver.ProtocolVerMin > 1 || ver.ProtocolVerMax < 1) return ctx.Fail(StatusInvalidParameter);
                return ctx.Ok(GdmaVerifyVerRespView.WireSize, b => new GdmaVerifyVerRespWriter(b).GdmaProtocolVer = 1);
            case (uint)GdmaRequestType.QueryMaxResources:
                return ctx.Ok(GdmaQueryMaxResourcesRespView.WireSize, b =>
                {
                    var w = new GdmaQueryMaxResourcesRespWriter(b);
                    w.MaxSq = w.MaxRq = w.MaxCq = MaxQueuesPerKind;
                    w.MaxEq = (uint)Msix.Count - 1;
                    w.MaxDb = DoorbellPages;
                    w.MaxMsix = (uint)Msix.Count;
                });
            case (uint)GdmaRequestType.ListDevices:
                return ctx.Ok(GdmaListDevicesRespView.WireSize, b =>
                {
                    var w = new GdmaListDevicesRespWriter(b);
                    w.NumOfDevs = _client is null ? 1u : 2u;
                    w.SetDevsType(0, GdmaDeviceType.Hwc);
                    if (_client is { } listed) w.SetDevsType(1, listed.DeviceType);
                });
            case (uint)GdmaRequestType.RegisterDevice:
                if (client is null) return ctx.Fail(StatusNotFound);
                _registered = true;
                return ctx.Ok(GdmaRegisterDeviceRespView.WireSize, b =>
                {
                    var w = new GdmaRegisterDeviceRespWriter(b);
                    w.Pdid = PdId;
                    w.GpaMkey = GpaMkey;
                    w.DbId = DataDoorbellPage;
                });
            case (uint)GdmaRequestType.DeregisterDevice:
                if (client is null || !_registered) return ctx.Fail(StatusNotRegistered);
                _registered = false;
                return ctx.Ok(GdmaGeneralRespView.WireSize, null);
            case (uint)GdmaRequestType.GenerateTestEqe: // Linux tests the HWC's EQ with it before it registers anything
            {
                if (GdmaGenerateTestEventReqView.TryRead(req, out var t) != WireError.None) return ctx.Fail(Invalid(req, GdmaGenerateTestEventReqView.WireSize));
                if (!_queues.TryGetValue((GdmaQueueType.Eq, t.QueueIndex), out GdmaQueue? eq)) return ctx.Fail(StatusNotFound);
                PostEqeLocked(eq, GdmaEqeType.TestEvent, 0, force: false);
                return ctx.Ok(GdmaGeneralRespView.WireSize, null);
            }
            case (uint)GdmaRequestType.QueryHwcTimeout:
                if (GdmaQueryHwcTimeoutReqView.TryRead(req, out var tmo) != WireError.None) return ctx.Fail(Invalid(req, GdmaQueryHwcTimeoutReqView.WireSize));
                uint ms = tmo.TimeoutMs == 0 ? 30000 : tmo.TimeoutMs;
                return ctx.Ok(GdmaQueryHwcTimeoutRespView.WireSize, b => new GdmaQueryHwcTimeoutRespWriter(b).TimeoutMs = ms);
        }
        if (!_registered) return ctx.Fail(GdmaSets.Contains(GdmaRule.Req, msgType) ? StatusNotRegistered : StatusCmdUnsupported);
        switch (msgType)
        {
            case (uint)GdmaRequestType.CreateDmaRegion:
                return CreateDmaRegionLocked(req, ctx);
            case (uint)GdmaRequestType.DestroyDmaRegion:
            {
                if (GdmaDestroyDmaRegionReqView.TryRead(req, out var d) != WireError.None) return ctx.Fail(Invalid(req, GdmaDestroyDmaRegionReqView.WireSize));
                if (!_regions.TryGetValue(d.DmaRegionHandle, out GdmaDmaRegion? r)) return ctx.Fail(StatusNotFound);
                if (r.Users > 0) return ctx.Fail(StatusInUse);
                _regions.Remove(d.DmaRegionHandle);
                return ctx.Ok(GdmaGeneralRespView.WireSize, null);
            }
            case (uint)GdmaRequestType.CreateQueue:
                return CreateEqLocked(req, ctx);
            case (uint)GdmaRequestType.DisableQueue:
            {
                if (GdmaDisableQueueReqView.TryRead(req, out var d) != WireError.None) return ctx.Fail(Invalid(req, GdmaDisableQueueReqView.WireSize));
                if (d.Type != GdmaQueueType.Eq || d.QueueIndex == HwcQueueId || !_queues.TryGetValue((GdmaQueueType.Eq, d.QueueIndex), out GdmaQueue? eq))
                    return ctx.Fail(StatusNotFound);
                if (_queues.Values.Any(q => q.Parent == eq)) return ctx.Fail(StatusInUse);
                RemoveQueue(eq);
                return ctx.Ok(GdmaGeneralRespView.WireSize, null);
            }
        }
        if (client is null) return ctx.Fail(GdmaSets.Contains(GdmaRule.Req, msgType) ? StatusNotFound : StatusCmdUnsupported);
        return client.HandleRequest(msgType, req, hdr, ctx) ?? ctx.Fail(StatusCmdUnsupported);
    }

    private byte[] CreateDmaRegionLocked(ReadOnlySpan<byte> req, GdmaAnswer ctx)
    {
        if (GdmaCreateDmaRegionReqView.TryRead(req, out var r) != WireError.None) return ctx.Fail(Invalid(req, GdmaCreateDmaRegionReqView.WireSize));
        int n = (int)Math.Min(r.PageAddrListLen, 4096u);
        if (r.OffsetInPage != 0 || r.Length == 0 || r.Length % PageSize != 0 || r.Length / PageSize != r.PageCount || r.PageCount != r.PageAddrListLen
            || req.Length != GdmaCreateDmaRegionReqView.WireSize + 8 * n)
            return ctx.Fail(StatusInvalidParameter);
        Span<ulong> pages = stackalloc ulong[n];
        for (int i = 0; i < n; i++) pages[i] = BinaryPrimitives.ReadUInt64LittleEndian(req[(GdmaCreateDmaRegionReqView.WireSize + 8 * i)..]);
        if (!TryMapPages(pages, r.Length, out GdmaDmaRegion mapped)) return ctx.Fail(StatusInvalidParameter);
        ulong handle = ++_nextRegionHandle;
        _regions[handle] = mapped.WithHandle(handle);
        return ctx.Ok(GdmaCreateDmaRegionRespView.WireSize, b => new GdmaCreateDmaRegionRespWriter(b).DmaRegionHandle = handle);
    }

    internal bool TryQueueMemory(ulong handle, uint size, out GdmaDmaRegion region) =>
        _regions.TryGetValue(handle, out region!) && size >= PageSize && (size & (size - 1)) == 0 && size <= region.Length;

    internal uint NextId(GdmaQueueType type) => _nextQueueId[(int)type] < MaxQueuesPerKind ? _nextQueueId[(int)type]++ : uint.MaxValue;

    private byte[] CreateEqLocked(ReadOnlySpan<byte> req, GdmaAnswer ctx)
    {
        if (GdmaCreateQueueReqView.TryRead(req, out var q) != WireError.None) return ctx.Fail(Invalid(req, GdmaCreateQueueReqView.WireSize));
        if (q.Type != GdmaQueueType.Eq || q.Pdid != PdId || q.DoolbellId >= DoorbellPages || q.EqPciMsixIndex >= Msix.Count)
            return ctx.Fail(StatusInvalidParameter);
        if (!TryQueueMemory(q.GdmaRegion, q.QueueSize, out GdmaDmaRegion region)) return ctx.Fail(StatusInvalidParameter);
        uint id = NextId(GdmaQueueType.Eq);
        if (id == uint.MaxValue) return ctx.Fail(StatusNoResources);
        GdmaQueue eq = AddQueue(GdmaQueueType.Eq, id, region, (int)q.QueueSize, (int)q.DoolbellId);
        eq.MsixIndex = (int)q.EqPciMsixIndex;
        eq.Armed = true;
        return ctx.Ok(GdmaCreateQueueRespView.WireSize, b => new GdmaCreateQueueRespWriter(b).QueueIndex = id);
    }
}
