using System.Buffers.Binary;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Wire;
using static NicScript.Driver.Devices.Mana.ManaRegisters;
using static NicScript.Driver.Devices.Mana.Gdma.GdmaAnswer;

namespace NicScript.Driver.Devices.Mana;

/// <summary>The MANA requests the VF answers on the HWC (mana_en.c's side): device and vPort configuration, work-queue
/// objects (an SQ or RQ with its CQ, built on the transport's queues) and RX steering.</summary>
public sealed partial class ManaDevice
{
    /// <summary>The vPort handle MANA_QUERY_VPORT_CONFIG hands out for vPort 0.</summary>
    public const ulong VportHandle = 0x0000_0001_0000_0001;

    private readonly Dictionary<ulong, GdmaQueue> _wqObjects = new();
    private ulong _nextObjectHandle;
    private bool _vportTxConfigured;

    /// <summary>RX steering: the RQ that frames from the wire go to (the vPort's default RX object), when RX is enabled.</summary>
    private GdmaQueue? _defaultRq;
    private bool _rxEnabled;

    void IGdmaClient.Reset()
    {
        _wqObjects.Clear();
        _vportTxConfigured = _rxEnabled = false;
        _defaultRq = null;
    }

    byte[]? IGdmaClient.HandleRequest(uint msgType, ReadOnlySpan<byte> req, GdmaReqHdrView hdr, GdmaAnswer ctx)
    {
        switch (msgType)
        {
            case (uint)ManaCommandCode.QueryDevConfig:
            {
                if (ManaQueryDeviceCfgReqView.TryRead(req, out _) != WireError.None) return ctx.Fail(Invalid(req, ManaQueryDeviceCfgReqView.WireSize));
                ctx.Version = Math.Min(hdr.HdrRespMsgVersionOr(), (ushort)3);
                ushort adapterMtu = (ushort)(Mtu + 14);
                uint eqs = (uint)Msix.Count - 1;
                return ctx.Ok(ManaQueryDeviceCfgRespView.WireSize, b =>
                {
                    var w = new ManaQueryDeviceCfgRespWriter(b);
                    w.MaxNumVports = 1;
                    w.MaxNumEqs = eqs;
                    w.AdapterMtu = adapterMtu;
                });
            }
            case (uint)ManaCommandCode.QueryVportConfig:
            {
                if (ManaQueryVportCfgReqView.TryRead(req, out var v) != WireError.None) return ctx.Fail(Invalid(req, ManaQueryVportCfgReqView.WireSize));
                if (v.VportIndex != 0) return ctx.Fail(StatusNotFound);
                byte[] mac = Mac;
                return ctx.Ok(ManaQueryVportCfgRespView.WireSize, b =>
                {
                    var w = new ManaQueryVportCfgRespWriter(b);
                    w.MaxNumSq = w.MaxNumRq = 8;
                    w.NumIndirectionEnt = 64;
                    for (int i = 0; i < 6; i++) w.SetMacAddr(i, mac[i]);
                    w.Vport = VportHandle;
                });
            }
            case (uint)ManaCommandCode.ConfigVportTx:
            {
                if (ManaConfigVportReqView.TryRead(req, out var v) != WireError.None) return ctx.Fail(Invalid(req, ManaConfigVportReqView.WireSize));
                if (v.Vport != VportHandle) return ctx.Fail(StatusNotFound);
                if (v.Pdid != PdId || v.DoorbellPageid >= DoorbellPages) return ctx.Fail(StatusInvalidParameter);
                _vportTxConfigured = true;
                return ctx.Ok(ManaConfigVportRespView.WireSize, b => new ManaConfigVportRespWriter(b).ShortFormAllowed = 1);
            }
            case (uint)ManaCommandCode.CreateWqObj:
                return CreateWqObjLocked(req, ctx);
            case (uint)ManaCommandCode.DestroyWqObj:
            {
                if (ManaDestroyWqobjReqView.TryRead(req, out var d) != WireError.None) return ctx.Fail(Invalid(req, ManaDestroyWqobjReqView.WireSize));
                if (!_wqObjects.TryGetValue(d.WqObjHandle, out GdmaQueue? wq) || wq.Type != d.WqType) return ctx.Fail(StatusNotFound);
                _wqObjects.Remove(d.WqObjHandle);
                _gdma.RemoveQueue(wq);
                if (wq.Parent is { } cq) _gdma.RemoveQueue(cq);
                if (wq == _defaultRq)
                {
                    _defaultRq = null;
                    _rxEnabled = false;
                }
                return ctx.Ok(ManaDestroyWqobjRespView.WireSize, null);
            }
            case (uint)ManaCommandCode.ConfigVportRx:
                return ConfigVportRxLocked(req, ctx, hdr);
            case (uint)ManaCommandCode.FenceRq:
                return FenceRqLocked(req, ctx);
        }
        return null;
    }

    private byte[] CreateWqObjLocked(ReadOnlySpan<byte> req, GdmaAnswer ctx)
    {
        if (ManaCreateWqobjReqView.TryRead(req, out var w) != WireError.None) return ctx.Fail(Invalid(req, ManaCreateWqobjReqView.WireSize));
        if (w.Vport != VportHandle) return ctx.Fail(StatusNotFound);
        if (w.WqType is not (GdmaQueueType.Sq or GdmaQueueType.Rq) || w.CqModerationCtxId != 0) return ctx.Fail(StatusInvalidParameter);
        if (!_gdma.TryQueueMemory(w.WqGdmaRegion, w.WqSize, out GdmaDmaRegion wqRegion) || !_gdma.TryQueueMemory(w.CqGdmaRegion, w.CqSize, out GdmaDmaRegion cqRegion)
            || w.WqGdmaRegion == w.CqGdmaRegion)
            return ctx.Fail(StatusInvalidParameter);
        GdmaQueue? eq = null;
        if (w.CqParentQid != 0xFFFF && !_gdma.TryFindQueue(GdmaQueueType.Eq, w.CqParentQid, out eq)) return ctx.Fail(StatusNotFound);
        uint wqId = _gdma.NextId(w.WqType), cqId = _gdma.NextId(GdmaQueueType.Cq);
        if (wqId == uint.MaxValue || cqId == uint.MaxValue) return ctx.Fail(StatusNoResources);
        GdmaQueue cq = _gdma.AddQueue(GdmaQueueType.Cq, cqId, cqRegion, (int)w.CqSize, DataDoorbellPage);
        cq.Parent = eq;
        GdmaQueue wq = _gdma.AddQueue(w.WqType, wqId, wqRegion, (int)w.WqSize, DataDoorbellPage);
        wq.Parent = cq;
        ulong handle = 0x100 + ++_nextObjectHandle;
        wq.ObjectHandle = handle;
        _wqObjects[handle] = wq;
        return ctx.Ok(ManaCreateWqobjRespView.WireSize, b =>
        {
            var r = new ManaCreateWqobjRespWriter(b);
            r.WqId = wqId;
            r.CqId = cqId;
            r.WqObj = handle;
        });
    }

    /// <summary>MANA_FENCE_RQ (mana_fence_rq_req: the header, then the RQ's object handle): Linux 6.1 fences every RQ
    /// after steering its vPort and waits for the RQ's CQ to report CQE_RX_OBJECT_FENCE. The model completes each frame
    /// as it arrives, so nothing is in flight: the fence CQE goes out at once, no WQE consumed.</summary>
    private byte[] FenceRqLocked(ReadOnlySpan<byte> req, GdmaAnswer ctx)
    {
        if (req.Length < GdmaReqHdrView.WireSize + 8) return ctx.Fail(StatusLengthMismatch);
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(req[GdmaReqHdrView.WireSize..]);
        if (!_wqObjects.TryGetValue(handle, out GdmaQueue? rq) || rq.Type != GdmaQueueType.Rq) return ctx.Fail(StatusNotFound);
        Span<byte> c = stackalloc byte[60];
        c.Clear();
        var w = new ManaRxcompOobWriter(c);
        w.CqeHdrCqeType = ManaCqeType.RxObjectFence;
        w.CqeHdrClientType = CqeClientCompletion;
        _gdma.PostCqeLocked(rq.Parent!, c, rq.Id, isSq: false);
        _gdma.NotifyLocked(rq.Parent!);
        return ctx.Ok(GdmaGeneralRespView.WireSize, null);
    }

    private byte[] ConfigVportRxLocked(ReadOnlySpan<byte> req, GdmaAnswer ctx, GdmaReqHdrView hdr)
    {
        if (ManaCfgRxSteerReqV2View.TryRead(req, out var s) != WireError.None) return ctx.Fail(Invalid(req, ManaCfgRxSteerReqV2View.WireSize));
        if (s.Vport != VportHandle) return ctx.Fail(StatusNotFound);
        int n = s.NumIndirEntries;
        if (n > 0 && (s.IndirTabOffset != ManaCfgRxSteerReqV2View.WireSize || req.Length < ManaCfgRxSteerReqV2View.WireSize + 8 * n))
            return ctx.Fail(StatusLengthMismatch);
        // Linux 6.1 always sends the table's room (64 entries) but fills it only with update_indir_tab: when it turns RX
        // off on its way down the table is zeros, and refusing that left its vPort attached and its queues in use.
        for (int i = 0; i < n && s.UpdateIndirTab != 0; i++)
        {
            ulong obj = BinaryPrimitives.ReadUInt64LittleEndian(req[(ManaCfgRxSteerReqV2View.WireSize + 8 * i)..]);
            if (!_wqObjects.TryGetValue(obj, out GdmaQueue? q) || q.Type != GdmaQueueType.Rq) return ctx.Fail(StatusInvalidParameter);
        }
        GdmaQueue? rq = _defaultRq;
        if (s.UpdateDefaultRxobj != 0)
        {
            if (!_wqObjects.TryGetValue(s.DefaultRxobj, out rq) || rq.Type != GdmaQueueType.Rq) return ctx.Fail(StatusInvalidParameter);
        }
        bool enable = s.RxEnable == TriStateUnknown ? _rxEnabled : s.RxEnable != 0; // TRI_STATE_UNKNOWN: left as it is
        if (enable && rq is null) return ctx.Fail(StatusInvalidParameter);
        _defaultRq = rq;
        _rxEnabled = enable;
        // Response v2 adds cqe_coalescing_timeout_ns; a driver asking for v1 (Linux 6.1) takes the bare header, and a
        // longer answer than it asked for fails its request with -EPROTO.
        ctx.Version = Math.Min(hdr.HdrRespMsgVersionOr(), (ushort)2);
        return ctx.Ok(ctx.Version >= 2 ? ManaCfgRxSteerRespView.WireSize : GdmaRespHdrView.WireSize, null);
    }
}

internal static class GdmaReqHdrViewExtensions
{
    /// <summary>The response version the driver expects (at least 1).</summary>
    public static ushort HdrRespMsgVersionOr(this GdmaReqHdrView hdr) => Math.Max((ushort)1, hdr.RespMsgVersion);
}
