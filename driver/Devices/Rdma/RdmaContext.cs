using System.Net;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices.Rdma;

/// <summary>
/// One script's view of its host's RDMA device: its protection domain, MR handles, QPs and last error — the seed's calls
/// with their exact return values (reference/rdma.md §2–§3). Every failure returns −1 and records <see cref="LastError"/>.
/// </summary>
public sealed class RdmaContext
{
    public const ulong MaxMessage = 1UL << 31;
    public const int MaxQueue = 0x4000;

    private readonly RdmaDevice _device;
    private readonly DmaOwner _owner;
    private readonly List<Mr?> _handles = [null];
    private readonly HashSet<uint> _qps = new();
    private readonly DmaAttachment? _dma;

    /// <remarks>The context attaches <paramref name="owner"/> to the function's IOMMU domain (the engine DMAs its MRs
    /// through it) until <see cref="ReleaseAll"/>. Whether a script may have one at all is the host's decision.</remarks>
    public RdmaContext(RdmaDevice device, DmaOwner owner, string name = "script")
    {
        _device = device;
        _owner = owner;
        Name = name;
        _dma = device.Domain.Attach(owner);
    }

    public string Name { get; }

    /// <summary>The script's DMA owner: the protection domain its MRs' memory must still belong to (<see cref="RdmaDevice.TryDma"/>).</summary>
    internal DmaOwner DmaOwner => _owner;

    public RdmaDevice Device => _device;

    private object Sync => _device.Fabric.Sync;

    /// <summary>The reason of the last −1 (null before any failure).</summary>
    public RdmaError? LastError { get; private set; }

    /// <summary>Called with each failure (the host logs and audits it).</summary>
    public Action<RdmaError>? OnFailure { get; set; }

    private int Fail(string errno, string reason, string message)
    {
        LastError = new RdmaError(errno, reason, message);
        OnFailure?.Invoke(LastError);
        return -1;
    }

    internal Mr? MrOf(int handle) => handle > 0 && handle < _handles.Count ? _handles[handle] : null;

    /// <summary><c>rdma_query_gid</c>: the device's GID.</summary>
    public string QueryGid() => _device.Gid;

    /// <summary>The script stopped: its QPs are destroyed and its MRs deregistered (its DMA memory is reclaimed by the host).</summary>
    public void ReleaseAll()
    {
        lock (Sync)
        {
            foreach (uint qpn in _qps.ToArray())
                if (_device.QpByNumber(qpn) is { } qp) _device.DestroyQp(qp);
            _qps.Clear();
            foreach (Mr? mr in _handles)
                if (mr is not null) mr.Valid = false;
            _dma?.Dispose();
        }
    }

    public int RegMr(ulong addr, ulong length, int access)
    {
        lock (Sync)
        {
            if ((access & ~RdmaAccess.All) != 0) return Fail("EINVAL", "invalid-access-flags", $"rdma_reg_mr: access 0x{access:x} has bits outside 0xF");
            if ((access & (RdmaAccess.RDMA_ACCESS_REMOTE_WRITE | RdmaAccess.RDMA_ACCESS_REMOTE_ATOMIC)) != 0 && (access & RdmaAccess.RDMA_ACCESS_LOCAL_WRITE) == 0)
                return Fail("EINVAL", "remote-write-needs-local-write", "rdma_reg_mr: REMOTE_WRITE or REMOTE_ATOMIC needs LOCAL_WRITE");
            if (length == 0 || addr + length < addr) return Fail("EINVAL", "invalid-length", $"rdma_reg_mr: length {length} at 0x{addr:x}");
            if (length > int.MaxValue || _device.Fabric.Memory.TryLocate(addr, (int)length, out DmaRegion region, out _) != DmaError.None
                || region.CheckAccess(_owner, write: false) != DmaError.None)
                return Fail("EFAULT", "bad-address", $"rdma_reg_mr: [0x{addr:x}, +{length}) is not inside DMA memory {Name} holds");
            Mr? mr = _device.RegisterMr(this, addr, length, access);
            if (mr is null) return Fail("ENOMEM", "out-of-resources", "rdma_reg_mr: the device's MR table is full");
            _handles.Add(mr);
            return _handles.Count - 1;
        }
    }

    public int DeregMr(int handle)
    {
        lock (Sync)
        {
            if (handle <= 0 || handle >= _handles.Count) return Fail("EINVAL", "invalid-mr-handle", $"rdma_dereg_mr: {handle} was never issued");
            if (_handles[handle] is not { Valid: true } mr) return Fail("EINVAL", "mr-not-registered", $"rdma_dereg_mr: {handle} is already deregistered");
            mr.Valid = false; // lkey and rkey die with it; memory is untouched
            return 0;
        }
    }

    public RdmaMrInfo? QueryMr(int handle)
    {
        lock (Sync)
        {
            if (handle <= 0 || handle >= _handles.Count) { Fail("EINVAL", "invalid-mr-handle", $"rdma_query_mr: {handle} was never issued"); return null; }
            if (_handles[handle] is not { Valid: true } mr) { Fail("EINVAL", "mr-not-registered", $"rdma_query_mr: {handle} is deregistered"); return null; }
            return new RdmaMrInfo(mr.Addr, mr.Length, mr.Key, mr.Key, mr.Access);
        }
    }

    public int CreateQp(int sendCqSize, int recvCqSize)
    {
        lock (Sync)
        {
            if (sendCqSize is < 1 or > MaxQueue || recvCqSize is < 1 or > MaxQueue)
                return Fail("EINVAL", "invalid-queue-size", $"rdma_create_qp({sendCqSize}, {recvCqSize}): sizes are 1..{MaxQueue}");
            Qp? qp = _device.CreateQp(this, sendCqSize, recvCqSize);
            if (qp is null) return Fail("ENOMEM", "out-of-resources", "rdma_create_qp: the device's QP table is full");
            _qps.Add(qp.Qpn);
            return (int)qp.Qpn;
        }
    }

    private Qp? QpOf(int qpn, string call)
    {
        if (qpn > 0 && _qps.Contains((uint)qpn) && _device.QpByNumber((uint)qpn) is { } qp) return qp;
        Fail("EINVAL", "invalid-qp-number", $"{call}: {qpn} is not a live QP of {Name}");
        return null;
    }

    public int DestroyQp(int qpn)
    {
        lock (Sync)
        {
            if (QpOf(qpn, "rdma_destroy_qp") is not { } qp) return -1;
            _device.DestroyQp(qp);
            _qps.Remove(qp.Qpn);
            return 0;
        }
    }

    public long PostWrite(int qpn, int mr, ulong offset, ulong remoteAddr, uint rkey, ulong length) =>
        Post("rdma_post_write", RdmaWcOpcode.RDMA_WC_RDMA_WRITE, qpn, mr, offset, remoteAddr, rkey, length);

    public long PostSend(int qpn, int mr, ulong length) => Post("rdma_post_send", RdmaWcOpcode.RDMA_WC_SEND, qpn, mr, 0, 0, 0, length);

    public long PostRecv(int qpn, int mr, ulong length)
    {
        lock (Sync)
        {
            if (QpOf(qpn, "rdma_post_recv") is not { } qp) return -1;
            if (qp.State == RdmaQpState.RDMA_QPS_RESET) return Fail("EINVAL", "qp-not-ready", $"rdma_post_recv: QP {qpn} is in RESET");
            if (CheckMr(mr, "rdma_post_recv") is { } bad) return bad;
            if (length > MaxMessage) return Fail("EINVAL", "message-too-long", $"rdma_post_recv: {length} bytes is more than 2^31");
            if (qp.RqFull) return Fail("ENOMEM", "recv-queue-full", $"rdma_post_recv: QP {qpn} holds {qp.RqOutstanding} receives");
            return qp.PostRecv(mr, length);
        }
    }

    private int? CheckMr(int mr, string call)
    {
        if (mr <= 0 || mr >= _handles.Count) return Fail("EINVAL", "invalid-mr-handle", $"{call}: MR {mr} was never issued");
        if (_handles[mr] is not { Valid: true }) return Fail("EINVAL", "mr-not-registered", $"{call}: MR {mr} is deregistered");
        return null;
    }

    private long Post(string call, int kind, int qpn, int mr, ulong offset, ulong remoteAddr, uint rkey, ulong length)
    {
        lock (Sync)
        {
            if (QpOf(qpn, call) is not { } qp) return -1;
            if (qp.State is RdmaQpState.RDMA_QPS_RESET or RdmaQpState.RDMA_QPS_INIT or RdmaQpState.RDMA_QPS_RTR)
                return Fail("EINVAL", "qp-not-ready", $"{call}: QP {qpn} is in state {qp.State} (sends need RTS)");
            if (CheckMr(mr, call) is { } bad) return bad;
            if (length > MaxMessage) return Fail("EINVAL", "message-too-long", $"{call}: {length} bytes is more than 2^31");
            if (qp.SqFull) return Fail("ENOMEM", "send-queue-full", $"{call}: QP {qpn} holds {qp.SqOutstanding} outstanding WRs");
            return qp.PostSend(kind, mr, offset, remoteAddr, rkey, length);
        }
    }

    /// <summary>Drives the engine, then copies up to <paramref name="max"/> completions (oldest first across both CQs).</summary>
    public int PollCq(int qpn, Span<RdmaCompletion> wc, int max)
    {
        lock (Sync)
        {
            if (QpOf(qpn, "rdma_poll_cq") is not { } qp) return -1;
            if (max < 0 || max > wc.Length) return Fail("EINVAL", "invalid-argument", $"rdma_poll_cq: max_entries {max} with a wc array of {wc.Length}");
            _device.Fabric.Progress(); // the same lock: the engine runs, then this QP's completions are read
            int n = qp.Poll(wc[..max]);
            if (n == 0 && qp.Overrun && qp.CqsEmpty) return Fail("EIO", "cq-overrun", $"rdma_poll_cq: a CQ of QP {qpn} overran");
            return n;
        }
    }

    public int Connect(int qpn, string remoteGid, long remoteQpn, RdmaConnectOptions? options = null)
    {
        lock (Sync)
        {
            if (QpOf(qpn, "rdma_connect") is not { } qp) return -1;
            if (qp.SqOutstanding + qp.RqOutstanding > 0) return Fail("EBUSY", "qp-busy", $"rdma_connect: QP {qpn} has outstanding WRs");
            if (ParseGid(remoteGid) is not { } ip) return Fail("EINVAL", "invalid-gid", $"rdma_connect: '{remoteGid}' is not a GID (::ffff:a.b.c.d)");
            if (_device.Fabric.ByIp(ip) is null) return Fail("EHOSTUNREACH", "unknown-gid", $"rdma_connect: no host with GID {remoteGid} on the wire");
            if (remoteQpn is < 1 or > 0xFFFFFF) return Fail("EINVAL", "invalid-qpn", $"rdma_connect: remote QPN {remoteQpn} is not 1..0xFFFFFF");
            if (options is not null && Validate(options) is { } why) return Fail("EINVAL", "invalid-argument", "rdma_connect: " + why);
            qp.ConnectTo(ip, (uint)remoteQpn, options);
            return 0;
        }
    }

    private string? Validate(RdmaConnectOptions o)
    {
        int wireMtu = _device.Function.Mtu;
        if (o.PathMtu is { } m && (m is not (256 or 512 or 1024 or 2048 or 4096) || m > wireMtu - 80)) return $"path MTU {m} (256..4096, at most {wireMtu - 80} on this wire)";
        if (o.SqPsn is < 0 or > 0xFFFFFF || o.RqPsn is < 0 or > 0xFFFFFF) return "a PSN is not 0..0xFFFFFF";
        if (o.RetryCnt is < 0 or > 7 || o.RnrRetry is < 0 or > 7) return "retry counts are 0..7";
        if (o.MinRnrTimer is < 0 or > 31 || o.Timeout is < 0 or > 31) return "timer values are 0..31";
        return null;
    }

    internal static uint? ParseGid(string gid)
    {
        if (!IPAddress.TryParse(gid, out IPAddress? a)) return null;
        if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !a.IsIPv4MappedToIPv6) return null;
        byte[] b = a.MapToIPv4().GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    public int QpState(int qpn)
    {
        lock (Sync) return QpOf(qpn, "rdma_qp_state") is { } qp ? qp.State : -1;
    }

    private static readonly bool[,] Legal =
    {
        // to: RESET INIT  RTR    RTS    SQD    SQE    ERR
        { true, true, false, false, false, false, false }, // RESET
        { true, true, true, false, false, false, true },   // INIT
        { true, false, false, true, false, false, true },  // RTR
        { true, false, false, true, true, false, true },   // RTS
        { true, false, false, true, true, false, true },   // SQD
        { true, false, false, true, false, false, true },  // SQE
        { true, false, false, false, false, false, true }, // ERR
    };

    public int ModifyQp(int qpn, int state)
    {
        lock (Sync)
        {
            if (QpOf(qpn, "rdma_modify_qp") is not { } qp) return -1;
            if (state is < 0 or > 6 || state == RdmaQpState.RDMA_QPS_SQE || !Legal[qp.State, state])
                return Fail("EINVAL", "invalid-state-transition", $"rdma_modify_qp: {qp.State} → {state} is not a legal transition");
            qp.MoveTo(state);
            return 0;
        }
    }
}
