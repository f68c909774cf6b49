using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;
using static NicScript.Driver.Devices.Mana.ManaRegisters;

namespace NicScript.Driver.Devices.Mana;

/// <summary>A native GDMA/MANA driver for the emulated VF: the Linux bring-up order over BAR0, SHM and the HWC, then a burst data path.</summary>
/// <remarks>
/// What the scripts do through handles, in C# below the handle line: tests use it to reach the device's error paths
/// and hot removal, the benchmark to measure SQ → wire → RQ with CQE and EQE processing. A request the device
/// refuses throws <see cref="ManaRequestException"/> with its status. Not thread-safe.
/// </remarks>
public sealed class ManaDriver : IDisposable
{
    public const int FrameSlot = 2048;

    private readonly PciFunction _f;
    private readonly DmaMemory _memory;
    private readonly DmaOwner _owner;
    private readonly List<DmaRegion> _allocated = new();
    private DmaAttachment? _dma;
    private DmaRegion _hwcEq = null!, _hwcCq = null!, _hwcRq = null!, _hwcSq = null!, _reqBuf = null!, _respBuf = null!;
    private OwnerBitRing<DmaRegionMemory> _hwcEqRing = null!, _hwcCqRing = null!;

    /// <summary>The HWC EQ's consumer side (this driver polls the HWC CQ; the tests read the events a driver woken by
    /// interrupts would get).</summary>
    internal OwnerBitRing<DmaRegionMemory> HwcEqRing => _hwcEqRing;
    private uint _hwcSqTail, _hwcRqTail;
    private ushort _msgId;
    private uint _activity;
    private int _dbOffset, _dbSize;

    public ManaDriver(PciFunction function, DmaMemory memory, DmaOwner owner)
    {
        _f = function;
        _memory = memory;
        _owner = owner;
    }

    public uint HwcEqId { get; private set; }
    public uint HwcCqId { get; private set; }
    public uint HwcRqId { get; private set; }
    public uint HwcSqId { get; private set; }
    public uint PdId { get; private set; }
    public uint Mkey { get; private set; }
    public uint DbId { get; private set; }
    public ulong Vport { get; private set; }
    public byte[] Mac { get; } = new byte[6];
    public ManaQueuePair? Queues { get; private set; }
    public uint EqId { get; private set; }

    // ---- bring-up ---------------------------------------------------------------------------------------------------

    /// <summary>SHM handshake and HWC bootstrap, version check, device list, register, an EQ, the vPort's SQ and RQ, RX on.</summary>
    public void BringUp(int ringBytes = 32768, int frames = 512)
    {
        OpenHwc();

        Span<byte> verify = stackalloc byte[GdmaVerifyVerReqView.WireSize];
        var v = new GdmaVerifyVerReqWriter(verify.Clear2());
        InitHdr(verify, (uint)GdmaRequestType.VerifyVfDriverVersion, GdmaVerifyVerRespView.WireSize, GdmaDeviceType.None);
        v.ProtocolVerMin = v.ProtocolVerMax = 1;
        v.OsType = 0x10;
        Request(verify, GdmaVerifyVerRespView.WireSize);

        Span<byte> general = stackalloc byte[GdmaGeneralReqView.WireSize];
        InitHdr(general.Clear2(), (uint)GdmaRequestType.ListDevices, GdmaListDevicesRespView.WireSize, GdmaDeviceType.None);
        byte[] list = Request(general, GdmaListDevicesRespView.WireSize);
        GdmaListDevicesRespView.TryRead(list, out var devs);
        bool found = false;
        for (int i = 0; i < Math.Min(devs.NumOfDevs, 64u); i++) found |= devs.DevsType(i) == GdmaDeviceType.Mana;
        if (!found) throw new ManaRequestException("LIST_DEVICES", 0, "no MANA device");

        InitHdr(general.Clear2(), (uint)GdmaRequestType.QueryMaxResources, GdmaQueryMaxResourcesRespView.WireSize, GdmaDeviceType.None);
        Request(general, GdmaQueryMaxResourcesRespView.WireSize);

        InitHdr(general.Clear2(), (uint)GdmaRequestType.RegisterDevice, GdmaRegisterDeviceRespView.WireSize, GdmaDeviceType.Mana);
        GdmaRegisterDeviceRespView.TryRead(Request(general, GdmaRegisterDeviceRespView.WireSize), out var reg);
        (PdId, Mkey, DbId) = (reg.Pdid, reg.GpaMkey, reg.DbId);

        Span<byte> cfg = stackalloc byte[ManaQueryDeviceCfgReqView.WireSize];
        var c = new ManaQueryDeviceCfgReqWriter(cfg.Clear2());
        InitHdr(cfg, (uint)ManaCommandCode.QueryDevConfig, ManaQueryDeviceCfgRespView.WireSize, GdmaDeviceType.Mana, respVersion: 3);
        c.ProtoMinorVer = 1;
        c.ProtoMicroVer = 1;
        Request(cfg, ManaQueryDeviceCfgRespView.WireSize);

        EqId = CreateEq(PageSize, msix: 1);

        Span<byte> qv = stackalloc byte[ManaQueryVportCfgReqView.WireSize];
        InitHdr(qv.Clear2(), (uint)ManaCommandCode.QueryVportConfig, ManaQueryVportCfgRespView.WireSize, GdmaDeviceType.Mana);
        ManaQueryVportCfgRespView.TryRead(Request(qv, ManaQueryVportCfgRespView.WireSize), out var vp);
        Vport = vp.Vport;
        for (int i = 0; i < 6; i++) Mac[i] = vp.MacAddr(i);

        Span<byte> tx = stackalloc byte[ManaConfigVportReqView.WireSize];
        var t = new ManaConfigVportReqWriter(tx.Clear2());
        InitHdr(tx, (uint)ManaCommandCode.ConfigVportTx, ManaConfigVportRespView.WireSize, GdmaDeviceType.Mana);
        t.Vport = Vport;
        t.Pdid = PdId;
        t.DoorbellPageid = DbId;
        Request(tx, ManaConfigVportRespView.WireSize);

        var (sqId, sqCq, sqObj, sqRing, sqCqRing) = CreateWqObj(GdmaQueueType.Sq, ringBytes);
        var (rqId, rqCq, rqObj, rqRing, rqCqRing) = CreateWqObj(GdmaQueueType.Rq, ringBytes);
        Queues = new ManaQueuePair(this, sqId, sqCq, sqObj, sqRing, sqCqRing, rqId, rqCq, rqObj, rqRing, rqCqRing, Alloc(frames * FrameSlot), Alloc(frames * FrameSlot), frames);

        Span<byte> rx = stackalloc byte[ManaCfgRxSteerReqV2View.WireSize];
        var r = new ManaCfgRxSteerReqV2Writer(rx.Clear2());
        InitHdr(rx, (uint)ManaCommandCode.ConfigVportRx, ManaCfgRxSteerRespView.WireSize, GdmaDeviceType.Mana, reqVersion: 2, respVersion: 2);
        r.Vport = Vport;
        r.RxEnable = 1;
        r.UpdateDefaultRxobj = 1;
        r.DefaultRxobj = rqObj;
        Request(rx, ManaCfgRxSteerRespView.WireSize);
        Queues.Start();
    }

    /// <summary>The first step of a bring-up, on its own for the tests that act as another driver would next: the
    /// function enabled, BAR0's registers read, the HWC established from its bootstrap events and its RQ posted.</summary>
    internal void OpenHwc()
    {
        // the VF reaches what this driver's owner holds, until Dispose
        _dma ??= _f.Dma?.Attach(_owner) ?? throw new InvalidOperationException($"{_f.Address}: the function has no IOMMU domain");
        _f.Config.Write(ConfigSpace.Command, 2, 0x0006); // memory space, bus master
        _dbOffset = (int)_f.ReadBar(Bar, DoorbellPageOffsetRegister, 8);
        _dbSize = (int)(_f.ReadBar(Bar, DoorbellPageSizeRegister, 4) & 0xFFFF);
        int shm = (int)_f.ReadBar(Bar, ShmOffsetRegister, 8);
        _hwcEq = Alloc(PageSize); _hwcCq = Alloc(PageSize); _hwcRq = Alloc(PageSize); _hwcSq = Alloc(PageSize);
        _reqBuf = Alloc(HwcMessageSize); _respBuf = Alloc(HwcMessageSize);
        _hwcEqRing = Consumer(_hwcEq, EqeSize, 12);
        _hwcCqRing = Consumer(_hwcCq, CqeSize, 60);
        EstablishHwc(shm);
        PostHwcRqWqe();
    }

    private DmaRegion Alloc(int bytes)
    {
        DmaError e = _memory.TryAllocate(_owner, bytes, out DmaRegion region);
        if (e != DmaError.None) throw new InvalidOperationException($"DMA allocation of {bytes} bytes: {e}");
        _allocated.Add(region);
        return region;
    }

    internal Span<byte> Bytes(DmaRegion r, int offset, int length) =>
        r.TryGetSpan(_owner, offset, length, write: true, out Span<byte> s) == DmaError.None ? s : throw new InvalidOperationException($"{r}: {offset}+{length} not accessible");

    private void EstablishHwc(int shm)
    {
        if ((_f.ReadBar(Bar, shm + 28, 4) & 0x8000_0000) != 0) throw new InvalidOperationException("the SHM aperture is owned by the device");
        Span<byte> msg = stackalloc byte[32];
        msg.Clear();
        ulong[] frames = [_hwcEq.Iova >> 12, _hwcCq.Iova >> 12, _hwcRq.Iova >> 12, _hwcSq.Iova >> 12];
        ushort high = 0;
        for (int q = 0; q < 4; q++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(msg[(6 * q)..], (uint)frames[q]);
            BinaryPrimitives.WriteUInt16LittleEndian(msg[(6 * q + 4)..], (ushort)(frames[q] >> 32));
            high |= (ushort)((frames[q] >> 48 & 0xF) << (4 * q));
        }
        BinaryPrimitives.WriteUInt16LittleEndian(msg[24..], high);
        BinaryPrimitives.WriteUInt16LittleEndian(msg[26..], 0); // MSI-X vector 0 serves the HWC EQ
        var h = new SmcProtoHdrWriter(msg[28..]);
        h.MsgType = 1; // ESTABLISH_HWC
        for (int i = 0; i < 8; i++) _f.WriteBar(Bar, shm + 4 * i, 4, BinaryPrimitives.ReadUInt32LittleEndian(msg[(4 * i)..]));
        uint answer = (uint)_f.ReadBar(Bar, shm + 28, 4);
        if ((answer & 0x80) == 0 || (answer >> 8 & 0xFF) != 0 || (answer & 0x8000_0000) != 0)
            throw new ManaRequestException("ESTABLISH_HWC", answer >> 8 & 0xFF, $"SHM answer 0x{answer:x8}");
        bool done = false;
        for (int n = 0; n < 64 && !done; n++)
        {
            if (!NextEqe(_hwcEqRing, out GdmaEqeType type, out uint detail)) throw new InvalidOperationException("HWC bootstrap: no INIT_DONE");
            switch (type)
            {
                case GdmaEqeType.HwcInitEqIdDb: HwcEqId = detail & 0xFFFF; break;
                case GdmaEqeType.HwcInitData:
                    uint value = detail & 0xFF_FFFF;
                    switch (detail >> 24)
                    {
                        case 1: HwcCqId = value; break;
                        case 2: HwcRqId = value; break;
                        case 3: HwcSqId = value; break;
                        case 8: PdId = value; break;
                        case 9: Mkey = value; break;
                    }
                    break;
                case GdmaEqeType.HwcInitDone: done = true; break;
            }
        }
    }

    /// <summary>A consumer over a CQ or EQ in <paramref name="memory"/>: owner bits at bit 29 of the info word.</summary>
    internal static OwnerBitRing<DmaRegionMemory> Consumer(DmaRegion memory, int entrySize, int infoOffset) =>
        new(new DmaRegionMemory(memory), entrySize, memory.Length / entrySize, infoOffset, OwnerBitsShift, 3);

    /// <summary>The next new EQE's type and details[0], or false when the EQ holds nothing new.</summary>
    internal static bool NextEqe(OwnerBitRing<DmaRegionMemory> eq, out GdmaEqeType type, out uint detail)
    {
        type = default;
        detail = 0;
        if (eq.TryRead(out ReadOnlySpan<byte> e) != OwnerBitResult.New) return false;
        type = (GdmaEqeType)e[12];
        detail = BinaryPrimitives.ReadUInt32LittleEndian(e);
        eq.Advance();
        return true;
    }

    internal void Ring(int slot, ulong value, uint page) => _f.WriteBar(Bar, _dbOffset + (int)page * _dbSize + slot, 8, value);

    private void PostHwcRqWqe()
    {
        WriteWqe(Bytes(_hwcRq, (int)(_hwcRqTail % PageSize), 32), oobBytes: 8, _respBuf.Iova, Mkey, HwcMessageSize);
        _hwcRqTail += 32;
        Ring(RqDoorbell, _hwcRqTail * 1UL << 32 | HwcRqId, 0);
    }

    /// <summary>Writes a WQE with one SGE into <paramref name="w"/> (as mana_gd_post_work_request lays it out): the header,
    /// <paramref name="oobBytes"/> of inline OOB left zero for the caller to fill, then the SGE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteWqe(Span<byte> w, int oobBytes, ulong address, uint mkey, uint size)
    {
        w.Clear();
        var hdr = new GdmaWqeWriter(w);
        hdr.NumSge = 1;
        hdr.InlineOobSizeDiv4 = (byte)(oobBytes / 4);
        var sge = new GdmaSgeWriter(w[(8 + oobBytes)..]);
        sge.Address = address;
        sge.MemKey = mkey;
        sge.Size = size;
    }

    internal void InitHdr(Span<byte> req, uint code, int respSize, GdmaDeviceType dev, ushort reqVersion = 1, ushort respVersion = 1)
    {
        var h = new GdmaReqHdrWriter(req);
        h.ReqMsgType = h.RespMsgType = code;
        h.ReqMsgVersion = reqVersion;
        h.RespMsgVersion = respVersion;
        h.ReqMsgSize = (uint)req.Length;
        h.RespMsgSize = (uint)respSize;
        h.DevIdType = dev;
        h.ActivityId = code > 0x20000 ? ++_activity : 0;
    }

    /// <summary>Sends a request over the HWC and returns the response; a non-zero status throws.</summary>
    public byte[] Request(ReadOnlySpan<byte> request, int respSize)
    {
        uint code = BinaryPrimitives.ReadUInt32LittleEndian(request[4..]);
        request.CopyTo(Bytes(_reqBuf, 0, request.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes(_reqBuf, 10, 2), ++_msgId);
        Span<byte> w = Bytes(_hwcSq, (int)(_hwcSqTail % PageSize), 64);
        WriteWqe(w, oobBytes: 24, _reqBuf.Iova, Mkey, (uint)request.Length);
        var oob = new HwcTxOobWriter(w[8..]);
        oob.VscqId = HwcCqId;
        oob.VsqId = HwcSqId;
        _hwcSqTail += 64;
        Ring(SqDoorbell, (ulong)_hwcSqTail << 32 | HwcSqId, 0);
        for (int n = 0; n < 16; n++)
        {
            if (_hwcCqRing.TryRead(out ReadOnlySpan<byte> cqe) != OwnerBitResult.New) break;
            _hwcCqRing.Advance();
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(cqe[60..]);
            if ((info >> 24 & 1) != 0) continue; // SQ completion
            HwcRxOobView.TryRead(cqe, out var rx);
            int size = (int)rx.TxOobDataSize;
            byte[] resp = Bytes(_respBuf, 0, Math.Max(size, GdmaRespHdrView.WireSize)).ToArray();
            PostHwcRqWqe();
            GdmaRespHdrView.TryRead(resp, out var rh);
            if (rh.ResponseHwcMsgId != _msgId) throw new ManaRequestException(code, 0, "response to another message");
            if (rh.Status != 0) throw new ManaRequestException(code, rh.Status, "request refused");
            if (size != respSize) throw new ManaRequestException(code, 0, $"response of {size} bytes, asked for {respSize}"); // Linux: longer is -EPROTO
            return resp;
        }
        throw new ManaRequestException(code, 0, "no response");
    }

    internal ulong CreateDmaRegion(DmaRegion memory)
    {
        int pages = memory.Length / PageSize;
        var req = new byte[GdmaCreateDmaRegionReqView.WireSize + 8 * pages];
        InitHdr(req, (uint)GdmaRequestType.CreateDmaRegion, GdmaCreateDmaRegionRespView.WireSize, GdmaDeviceType.Mana);
        var r = new GdmaCreateDmaRegionReqWriter(req);
        r.Length = (ulong)memory.Length;
        r.PageCount = r.PageAddrListLen = (uint)pages;
        for (int i = 0; i < pages; i++) BinaryPrimitives.WriteUInt64LittleEndian(req.AsSpan(GdmaCreateDmaRegionReqView.WireSize + 8 * i), memory.Iova + (ulong)(i * PageSize));
        GdmaCreateDmaRegionRespView.TryRead(Request(req, GdmaCreateDmaRegionRespView.WireSize), out var resp);
        return resp.DmaRegionHandle;
    }

    /// <summary>GDMA_CREATE_DMA_REGION + GDMA_CREATE_QUEUE (EQ) + GDMA_GENERATE_TEST_EQE; returns the EQ id.</summary>
    public uint CreateEq(int bytes, int msix)
    {
        DmaRegion mem = Alloc(bytes);
        ulong region = CreateDmaRegion(mem);
        Span<byte> req = stackalloc byte[GdmaCreateQueueReqView.WireSize];
        var q = new GdmaCreateQueueReqWriter(req.Clear2());
        InitHdr(req, (uint)GdmaRequestType.CreateQueue, GdmaCreateQueueRespView.WireSize, GdmaDeviceType.Mana);
        q.Type = GdmaQueueType.Eq;
        q.Pdid = PdId;
        q.DoolbellId = DbId;
        q.GdmaRegion = region;
        q.QueueSize = (uint)bytes;
        q.EqPciMsixIndex = (uint)msix;
        GdmaCreateQueueRespView.TryRead(Request(req, GdmaCreateQueueRespView.WireSize), out var resp);
        uint id = resp.QueueIndex;
        EqRing = Consumer(mem, EqeSize, 12);
        Span<byte> t = stackalloc byte[GdmaGenerateTestEventReqView.WireSize];
        InitHdr(t.Clear2(), (uint)GdmaRequestType.GenerateTestEqe, GdmaGeneralRespView.WireSize, GdmaDeviceType.Mana);
        new GdmaGenerateTestEventReqWriter(t).QueueIndex = id;
        Request(t, GdmaGeneralRespView.WireSize);
        if (!NextEqe(EqRing, out GdmaEqeType type, out _) || type != GdmaEqeType.TestEvent)
            throw new ManaRequestException("GENERATE_TEST_EQE", 0, "no TEST_EVENT on the new EQ");
        return id;
    }

    /// <summary>The data EQ's consumer side.</summary>
    internal OwnerBitRing<DmaRegionMemory> EqRing { get; private set; } = null!;

    private (uint Wq, uint Cq, ulong Obj, DmaRegion Ring, DmaRegion CqRing) CreateWqObj(GdmaQueueType type, int bytes)
    {
        DmaRegion ring = Alloc(bytes), cqRing = Alloc(bytes * 2);
        ulong wqRegion = CreateDmaRegion(ring), cqRegion = CreateDmaRegion(cqRing);
        Span<byte> req = stackalloc byte[ManaCreateWqobjReqView.WireSize];
        var w = new ManaCreateWqobjReqWriter(req.Clear2());
        InitHdr(req, (uint)ManaCommandCode.CreateWqObj, ManaCreateWqobjRespView.WireSize, GdmaDeviceType.Mana);
        w.Vport = Vport;
        w.WqType = type;
        w.WqGdmaRegion = wqRegion;
        w.CqGdmaRegion = cqRegion;
        w.WqSize = (uint)bytes;
        w.CqSize = (uint)bytes * 2;
        w.CqParentQid = EqId;
        ManaCreateWqobjRespView.TryRead(Request(req, ManaCreateWqobjRespView.WireSize), out var resp);
        return (resp.WqId, resp.CqId, resp.WqObj, ring, cqRing);
    }

    /// <summary>Frees every DMA buffer the driver allocated (what a driver does on removal).</summary>
    public void Dispose()
    {
        foreach (DmaRegion r in _allocated) _memory.Free(_owner, r);
        _allocated.Clear();
        _dma?.Dispose();
        _dma = null;
    }
}

/// <summary>A request the device answered with a non-zero status (or not at all).</summary>
internal sealed class ManaRequestException(string request, uint status, string detail)
    : Exception($"{request}: {detail} (status 0x{status:x8})")
{
    public ManaRequestException(uint code, uint status, string detail) : this($"request 0x{code:x}", status, detail)
    {
    }

    public uint Status { get; } = status;
}

internal static class SpanClear
{
    public static Span<byte> Clear2(this Span<byte> s)
    {
        s.Clear();
        return s;
    }
}
