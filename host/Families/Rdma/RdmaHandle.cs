#pragma warning disable CA1707, IDE1006 // the seed's C names are kept verbatim so its example ports line by line (reference/rdma.md §3.10)
using NicScript.Driver;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using NicScript.Host.Manifests;

using NicScript.Host.Capabilities;

namespace NicScript.Host.Families.Rdma;

/// <summary>
/// The <c>rdma</c> global: the seed's calls with their names (<c>rdma_reg_mr</c> …) and the calls it leaves out (§3).
/// Errors are return values (−1) with <c>rdma_last_error()</c>, never exceptions; a V-Node without <c>CAP_RDMA</c> gets
/// −1 <c>capability-denied</c>, audited here (the device knows nothing of capabilities).
/// </summary>
public sealed class RdmaHandle
{
    private readonly VNodeContext _ctx;
    private readonly Machine _machine;
    private RdmaContext? _rdma;

    public RdmaHandle(VNodeContext ctx, Machine machine)
    {
        _ctx = ctx;
        _machine = machine;
        ctx.OnRelease(() => _rdma?.ReleaseAll());
    }

    /// <summary>This V-Node's RDMA context for <paramref name="call"/>: on the RDMA device of a function it was granted, else
    /// the machine's first; null (with <c>rdma_last_error()</c> saying why) without a device, or without CAP_RDMA (audited).</summary>
    private RdmaContext? Rdma(string call)
    {
        if (_rdma is not null) return _rdma;
        RdmaDevice? device = _machine.Rdma.Devices.FirstOrDefault(d => _ctx.Manifest.GrantsPci(d.Function.Function.Address))
            ?? _machine.Rdma.Devices.FirstOrDefault();
        if (device is null)
        {
            _hostError = new RdmaError("ENODEV", "no-device", $"{call}: machine {_machine.Name} has no RDMA device");
            return null;
        }
        if (!_ctx.Manifest.Grants(CapabilityKind.Rdma))
        {
            _hostError = new RdmaError("EACCES", "capability-denied", $"{call}: {_ctx.Name} has no CAP_RDMA");
            _ctx.Deny("CAP_RDMA", "", _hostError.Message);
            _ctx.Log.Debug("rdma: {Reason} ({Errno}): {Message}", _hostError.Reason, _hostError.Errno, _hostError.Message);
            return null;
        }
        return _rdma = new RdmaContext(device, _ctx.DmaOwner, _ctx.Name)
        {
            OnFailure = e => _ctx.Log.Debug("rdma: {Reason} ({Errno}): {Message}", e.Reason, e.Errno, e.Message),
        };
    }

    /// <summary>The failure the host answered itself (no device, no grant): the device was never reached.</summary>
    private RdmaError? _hostError;

    // ---- the seed's calls, verbatim ----

    /// <summary>Registers <paramref name="addr"/> (a DMA buffer, or an IOVA inside one) for <paramref name="length"/> bytes.</summary>
    [ScriptApi]
    public long rdma_reg_mr(object addr, double length, int access_flags)
    {
        if (Rdma("rdma_reg_mr") is not { } r) return -1;
        ulong iova = addr switch
        {
            DmaBuffer b => ((IDmaRegionSource)b).Region.Iova,
            _ => ToUlong(addr),
        };
        return r.RegMr(iova, ToUlong(length), access_flags);
    }

    [ScriptApi] public long rdma_dereg_mr(int mr_handle) => Rdma("rdma_dereg_mr")?.DeregMr(mr_handle) ?? -1;

    [ScriptApi] public long rdma_create_qp(int send_cq_size, int recv_cq_size) => Rdma("rdma_create_qp")?.CreateQp(send_cq_size, recv_cq_size) ?? -1;

    [ScriptApi] public long rdma_destroy_qp(int qp_num) => Rdma("rdma_destroy_qp")?.DestroyQp(qp_num) ?? -1;

    [ScriptApi]
    public long rdma_post_write(int qp_num, int local_mr, double local_offset, double remote_addr, double rkey, double length) =>
        Rdma("rdma_post_write")?.PostWrite(qp_num, local_mr, ToUlong(local_offset), ToUlong(remote_addr), (uint)ToUlong(rkey), ToUlong(length)) ?? -1;

    [ScriptApi]
    public long rdma_post_send(int qp_num, int local_mr, double length) => Rdma("rdma_post_send")?.PostSend(qp_num, local_mr, ToUlong(length)) ?? -1;

    /// <summary>Fills <paramref name="wc"/>[0..n−1] in place with the oldest completions of the QP; returns n or −1.</summary>
    [ScriptApi]
    public long rdma_poll_cq(int qp_num, RdmaWc[] wc, int max_entries)
    {
        if (Rdma("rdma_poll_cq") is not { } r) return -1;
        if (wc is null || max_entries < 0 || max_entries > wc.Length)
            return r.PollCq(qp_num, Span<RdmaCompletion>.Empty, -1); // invalid-argument (after the QP check), nothing removed
        Span<RdmaCompletion> into = max_entries <= 64 ? stackalloc RdmaCompletion[max_entries] : new RdmaCompletion[max_entries];
        int n = r.PollCq(qp_num, into, max_entries);
        for (int i = 0; i < n; i++) wc[i].Fill(into[i]);
        return n;
    }

    // ---- the calls the seed leaves out (§3) ----

    [ScriptApi] public long rdma_post_recv(int qp_num, int local_mr, double length) => Rdma("rdma_post_recv")?.PostRecv(qp_num, local_mr, ToUlong(length)) ?? -1;

    [ScriptApi] public long rdma_connect(int qp_num, string remote_gid, double remote_qpn) => Rdma("rdma_connect")?.Connect(qp_num, remote_gid, (long)remote_qpn) ?? -1;

    [ScriptApi]
    public long rdma_connect_ex(int qp_num, string remote_gid, double remote_qpn, RdmaConnectOptions opts) =>
        Rdma("rdma_connect_ex")?.Connect(qp_num, remote_gid, (long)remote_qpn, opts) ?? -1;

    /// <summary><c>{addr, length, lkey, rkey, access}</c> of an MR, or null (see <c>rdma_last_error</c>).</summary>
    [ScriptApi] public RdmaMrInfo? rdma_query_mr(int mr_handle) => Rdma("rdma_query_mr")?.QueryMr(mr_handle);

    /// <summary>This host's GID (<c>::ffff:a.b.c.d</c>), or null with <c>rdma_last_error()</c> saying why (no CAP_RDMA:
    /// <c>capability-denied</c>, audited; no device: <c>no-device</c>), as <c>rdma_query_mr</c> answers a failure.</summary>
    [ScriptApi]
    public string? rdma_query_gid()
    {
        return Rdma("rdma_query_gid")?.QueryGid();
    }

    [ScriptApi] public long rdma_qp_state(int qp_num) => Rdma("rdma_qp_state")?.QpState(qp_num) ?? -1;

    [ScriptApi] public long rdma_modify_qp(int qp_num, int new_state) => Rdma("rdma_modify_qp")?.ModifyQp(qp_num, new_state) ?? -1;

    /// <summary>The reason of the last −1: <c>{errno, reason, message}</c>, or null.</summary>
    [ScriptApi] public RdmaError? rdma_last_error() => _hostError ?? _rdma?.LastError;

    /// <summary><paramref name="count"/> fresh <c>struct rdma_wc</c> objects for <c>rdma_poll_cq</c>.</summary>
    [ScriptApi] public RdmaWc[] rdma_wc_array(int count) => Enumerable.Range(0, Math.Clamp(count, 0, 4096)).Select(_ => new RdmaWc()).ToArray();

    private static ulong ToUlong(object value) => value switch
    {
        double d when d >= 0 && d == Math.Floor(d) => (ulong)d,
        int i when i >= 0 => (ulong)i,
        long l when l >= 0 => (ulong)l,
        uint u => u,
        ulong u => u,
        _ => throw new ScriptCallException($"rdma: {value} is not an address or length (a whole number ≥ 0)"),
    };
}

/// <summary><c>struct rdma_wc</c>: filled in place by <c>rdma_poll_cq</c>; the seed's field names and idiomatic ones.</summary>
public sealed class RdmaWc
{
    [ScriptApi]
    public RdmaWc()
    {
    }

    [ScriptApi] public long wr_id { get; set; }
    [ScriptApi] public int status { get; set; }
    [ScriptApi] public int opcode { get; set; }
    [ScriptApi] public double byte_len { get; set; }

    [ScriptApi] public long WrId => wr_id;
    [ScriptApi] public double ByteLen => byte_len;

    internal void Fill(in RdmaCompletion c)
    {
        wr_id = c.WrId;
        status = c.Status;
        opcode = c.Opcode;
        byte_len = c.ByteLen;
    }

    public override string ToString() => $"wr_id {wr_id} status {status} opcode {opcode} byte_len {byte_len}";
}
