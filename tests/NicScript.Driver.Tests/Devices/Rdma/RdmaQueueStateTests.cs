using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Checklist RD-40…RD-59: queues, CQs and polling, QP states, destroy and connect, limits.</summary>
public sealed class RdmaQueueStateTests : IDisposable
{
    private readonly RdmaFixture _x = new();
    private readonly Side _s;
    private readonly DmaRegion _buf;
    private readonly int _mr;
    private readonly RdmaMrInfo _info;

    public RdmaQueueStateTests()
    {
        _s = _x.SA;
        _buf = _s.Buffer(4096, pattern: true);
        _mr = _s.Reg(_buf, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
        _info = _s.Info(_mr);
    }

    public void Dispose() => _x.Dispose();

    private long Write(int q, ulong length = 8) => _s.Ctx.PostWrite(q, _mr, 0, _info.Addr + 2048, _info.Rkey, length);

    [Fact]
    public void RD_40_queues_hold_exactly_their_size_of_outstanding_wrs()
    {
        int q = _s.Ctx.CreateQp(4, 4);
        Assert.Equal([0L, 1, 2, 3], Enumerable.Range(0, 4).Select(_ => Write(q)));
        Assert.Equal(-1, Write(q));
        Assert.Equal("send-queue-full", _s.Reason);
        for (int i = 0; i < 4; i++) Assert.True(_s.Ctx.PostRecv(q, _mr, 64) >= 0);
        Assert.Equal(-1, _s.Ctx.PostRecv(q, _mr, 64));
        Assert.Equal("recv-queue-full", _s.Reason);
        Assert.Equal(0, _s.Ctx.PollCq(q, new RdmaCompletion[1], 0));
        Assert.True(Write(q) >= 0);
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(8, 0)]
    [InlineData(-1, 8)]
    [InlineData(16385, 8)]
    [InlineData(8, 16385)]
    public void RD_41_queue_sizes_are_1_to_16384(int send, int recv)
    {
        Assert.Equal(-1, _s.Ctx.CreateQp(send, recv));
        Assert.Equal("invalid-queue-size", _s.Reason);
        Assert.True(_s.Ctx.CreateQp(1, 1) >= 17);
        Assert.True(_s.Ctx.CreateQp(16384, 16384) >= 17);
    }

    [Fact]
    public void RD_42_polls_return_one_at_a_time_in_order_and_leave_the_rest_of_wc_alone()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        for (int i = 0; i < 3; i++) Write(q);
        var ids = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            var wc = new RdmaCompletion[3];
            wc[1].WrId = 99;
            int n = _s.Ctx.PollCq(q, wc, 1);
            Assert.Equal(i < 3 ? 1 : 0, n);
            Assert.Equal(99, wc[1].WrId);
            if (n == 1) ids.Add(wc[0].WrId);
        }
        Assert.Equal([0L, 1, 2], ids);
    }

    [Fact]
    public void RD_43_max_0_only_drives_progress_and_bad_arguments_remove_nothing()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        Write(q);
        Assert.Equal(0, _s.Ctx.PollCq(q, new RdmaCompletion[4], 0));
        Assert.Equal(-1, _s.Ctx.PollCq(q, new RdmaCompletion[4], -1));
        Assert.Equal("invalid-argument", _s.Reason);
        Assert.Equal(-1, _s.Ctx.PollCq(q, new RdmaCompletion[2], 3));
        Assert.Equal("invalid-argument", _s.Reason);
        Assert.Single(_s.Poll(q));
    }

    [Fact]
    public void RD_44_on_a_loopback_qp_the_recv_completion_comes_before_the_send()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        DmaRegion b2 = _s.Buffer(64, 7);
        int m2 = _s.Reg(b2, 0);
        Assert.Equal(0, _s.Ctx.PostRecv(q, _mr, 64));
        Assert.Equal(1, _s.Ctx.PostSend(q, m2, 8));
        var wc = new RdmaCompletion[2];
        _x.Run();
        Assert.Equal(2, _s.Ctx.PollCq(q, wc, 2));
        Assert.Equal([(0L, 0, 128, 8ul), (1L, 0, 0, 8ul)], wc.Select(c => (c.WrId, c.Status, c.Opcode, c.ByteLen)));
    }

    [Fact]
    public void RD_45_a_cq_overrun_fails_the_qp_and_then_every_poll()
    {
        int q = _s.Ctx.CreateQp(2, 2);
        Write(q);
        Write(q);
        _s.Ctx.PollCq(q, new RdmaCompletion[1], 0);
        Assert.True(Write(q) >= 0);
        _s.Ctx.PollCq(q, new RdmaCompletion[1], 0);
        Assert.Equal(6, _s.Ctx.QpState(q));
        var wc = new RdmaCompletion[8];
        Assert.Equal(2, _s.Ctx.PollCq(q, wc, 8));
        Assert.Equal([(0L, 0), (1L, 0)], wc[..2].Select(c => (c.WrId, c.Status)));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(-1, _s.Ctx.PollCq(q, wc, 8));
            Assert.Equal("cq-overrun", _s.Reason);
        }
    }

    [Fact]
    public void RD_46_new_qps_are_rts_from_17_up_and_numbers_are_never_reused()
    {
        int a = _s.Ctx.CreateQp(1, 1), b = _s.Ctx.CreateQp(1, 1);
        Assert.True(a >= 17 && b > a);
        Assert.Equal(3, _s.Ctx.QpState(a));
        _s.Ctx.DestroyQp(b);
        Assert.True(_s.Ctx.CreateQp(1, 1) > b);
    }

    [Fact]
    public void RD_47_in_sqd_a_write_waits_until_rts()
    {
        using var f = new F1();
        Assert.Equal(0, f.X.SA.Ctx.ModifyQp(f.QA, 4));
        Assert.True(f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12) >= 0);
        for (int i = 0; i < 5; i++) Assert.Empty(f.X.SA.Poll(f.QA));
        Assert.Empty(f.X.Roce);
        Assert.Equal(0, f.X.SA.Ctx.ModifyQp(f.QA, 3));
        Assert.Equal(0, f.X.SA.One(f.QA).Status);
    }

    [Fact]
    public void RD_48_entering_err_flushes_receives_then_sends_in_post_order()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        for (int i = 0; i < 3; i++) Write(q);
        _s.Ctx.PostRecv(q, _mr, 64);
        _s.Ctx.PostRecv(q, _mr, 64);
        Assert.Equal(0, _s.Ctx.ModifyQp(q, 6));
        RdmaCompletion[] all = _s.Poll(q);
        Assert.Equal([(3L, 128), (4L, 128), (0L, 1), (1L, 1), (2L, 1)], all.Select(c => (c.WrId, c.Opcode)));
        Assert.All(all, c => Assert.Equal((5, 0ul), (c.Status, c.ByteLen)));
        Assert.Empty(_x.Captured);
    }

    [Fact]
    public void RD_49_posts_in_err_are_accepted_and_flushed()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        _s.Ctx.ModifyQp(q, 6);
        long w = Write(q), r = _s.Ctx.PostRecv(q, _mr, 64);
        RdmaCompletion[] all = _s.Poll(q);
        Assert.Contains((w, 5, 1), all.Select(c => (c.WrId, c.Status, c.Opcode)));
        Assert.Contains((r, 5, 128), all.Select(c => (c.WrId, c.Status, c.Opcode)));
    }

    [Fact]
    public void RD_50_reset_discards_and_init_and_rtr_allow_what_the_table_says()
    {
        using var f = new F1();
        Side a = f.X.SA, b = f.X.SB;
        a.Ctx.ModifyQp(f.QA, 4); // hold the write in the SQ
        a.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12);
        Assert.Equal(0, a.Ctx.ModifyQp(f.QA, 0));
        Assert.Empty(a.Poll(f.QA));
        Assert.Equal(-1, a.Ctx.PostWrite(f.QA, f.SrcMr, 0, 0, 0, 0));
        Assert.Equal("qp-not-ready", a.Reason);
        Assert.Equal(-1, a.Ctx.PostRecv(f.QA, f.SrcMr, 8));
        Assert.Equal(0, b.Ctx.ModifyQp(f.QB, 0));
        Assert.Equal(0, b.Ctx.ModifyQp(f.QB, 1)); // INIT: receives accepted, sends not, requests dropped
        Assert.True(b.Ctx.PostRecv(f.QB, f.RcvMr, 4096) >= 0);
        Assert.Equal(-1, b.Ctx.PostSend(f.QB, f.RcvMr, 8));
        Assert.Equal("qp-not-ready", b.Reason);
        a.Ctx.ModifyQp(f.QA, 1);
        a.Ctx.ModifyQp(f.QA, 2);
        a.Ctx.ModifyQp(f.QA, 3);
        long before = f.X.B.RxDropped;
        a.Ctx.PostSend(f.QA, f.SrcMr, 8);
        f.X.Machine.Rdma.Progress(mayJump: false);
        Assert.True(f.X.B.RxDropped > before);
        Assert.Empty(b.Poll(f.QB));
        Assert.Equal(0, b.Ctx.ModifyQp(f.QB, 2)); // RTR: the retried SEND is received and acknowledged
        Assert.Equal(0, a.One(f.QA).Status);
        RdmaCompletion r = Assert.Single(b.Poll(f.QB));
        Assert.Equal((0, 128, 8ul), (r.Status, r.Opcode, r.ByteLen));
        Assert.Equal(-1, b.Ctx.PostSend(f.QB, f.RcvMr, 8));
    }

    [Theory]
    [InlineData(new[] { 0 }, 3)]        // RESET→RTS
    [InlineData(new[] { 0 }, 6)]        // RESET→ERR
    [InlineData(new[] { 0, 1 }, 3)]     // INIT→RTS
    [InlineData(new[] { 0, 1, 2 }, 4)]  // RTR→SQD
    [InlineData(new[] { 6 }, 3)]        // ERR→RTS
    [InlineData(new[] { 6 }, 1)]        // ERR→INIT
    [InlineData(new int[0], 5)]         // any→SQE
    [InlineData(new int[0], 7)]
    [InlineData(new int[0], -1)]
    public void RD_51_illegal_transitions_are_refused_and_change_nothing(int[] path, int to)
    {
        int q = _s.Ctx.CreateQp(8, 8);
        foreach (int step in path) Assert.Equal(0, _s.Ctx.ModifyQp(q, step));
        int state = _s.Ctx.QpState(q);
        Assert.Equal(-1, _s.Ctx.ModifyQp(q, to));
        Assert.Equal("invalid-state-transition", _s.Reason);
        Assert.Equal(state, _s.Ctx.QpState(q));
    }

    [Fact]
    public void RD_52_connect_brings_failed_qps_back()
    {
        using var f = new F1();
        RdmaMrInfo r = f.X.SB.Info(f.RcvMr);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, r.Addr, r.Rkey, 12);
        Assert.Equal(10, f.X.SA.One(f.QA).Status);
        Assert.Equal((6, 6), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
        Assert.Equal(0, f.X.SA.Ctx.Connect(f.QA, RdmaFixture.GidB, f.QB));
        Assert.Equal(0, f.X.SB.Ctx.Connect(f.QB, RdmaFixture.GidA, f.QA));
        Assert.Equal((3, 3), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12);
        Assert.Equal(0, f.X.SA.One(f.QA).Status);
    }

    [Fact]
    public void RD_53_requests_behind_a_failed_one_are_flushed_on_both_sides()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 64);
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 64);
        RdmaMrInfo d = f.DstInfo;
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, d.Addr, d.Rkey ^ 0x80, 16);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, d.Addr, d.Rkey, 16);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, d.Addr, d.Rkey, 16);
        var a = new List<RdmaCompletion>();
        for (int i = 0; i < 50 && a.Count < 3; i++) a.AddRange(f.X.SA.Poll(f.QA));
        Assert.Equal([10, 5, 5], a.Select(c => c.Status));
        Assert.True(f.Unchanged(f.Dst));
        Assert.Equal([5, 5], f.X.SB.Poll(f.QB).Select(c => c.Status));
    }

    [Fact]
    public void RD_54_a_destroyed_qp_is_gone_for_every_call_but_the_mrs_live_on()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        Assert.Equal(0, _s.Ctx.DestroyQp(q));
        long[] results =
        [
            Write(q), _s.Ctx.PostSend(q, _mr, 8), _s.Ctx.PostRecv(q, _mr, 8), _s.Ctx.PollCq(q, new RdmaCompletion[1], 1), _s.Ctx.DestroyQp(q),
            _s.Ctx.Connect(q, RdmaFixture.GidA, q),
        ];
        Assert.All(results, r => Assert.Equal(-1, r));
        Assert.Equal("invalid-qp-number", _s.Reason);
        int q2 = _s.Ctx.CreateQp(8, 8);
        Write(q2);
        Assert.Equal(0, _s.One(q2).Status);
    }

    [Fact]
    public void RD_55_destroying_with_queued_wrs_completes_nothing()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        _s.Ctx.ModifyQp(q, 4);
        Write(q);
        _s.Ctx.PostRecv(q, _mr, 8);
        Assert.Equal(0, _s.Ctx.DestroyQp(q));
        _x.Run();
        Assert.True(_x.Machine.Rdma.Quiescent);
    }

    [Fact]
    public void RD_56_writing_to_a_destroyed_peer_exhausts_the_retries()
    {
        using var f = new F1();
        f.X.SB.Ctx.DestroyQp(f.QB);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12);
        Assert.Equal(12, f.X.SA.One(f.QA).Status);
        Assert.Equal(7, f.X.Roce.Count(x => RdmaFixture.Opcode(x) == 0x0A));
        Assert.True(f.Unchanged(f.Dst));
    }

    [Fact]
    public void RD_57_connect_refuses_busy_qps_unknown_gids_and_bad_qpns()
    {
        using var f = new F1();
        f.X.SA.Ctx.ModifyQp(f.QA, 4);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, 0, 0, 0);
        Assert.Equal(-1, f.X.SA.Ctx.Connect(f.QA, RdmaFixture.GidB, 99));
        Assert.Equal("qp-busy", f.X.SA.Reason);
        Assert.Equal(4, f.X.SA.Ctx.QpState(f.QA));
        int fresh = f.X.SA.Ctx.CreateQp(8, 8);
        Assert.Equal(-1, f.X.SA.Ctx.Connect(fresh, "::ffff:192.0.2.99", 20));
        Assert.Equal("unknown-gid", f.X.SA.Reason);
        Assert.Equal(-1, f.X.SA.Ctx.Connect(fresh, "not-a-gid", 20));
        Assert.Equal("invalid-gid", f.X.SA.Reason);
        foreach (long qpn in new[] { 0L, 0x1000000 })
        {
            Assert.Equal(-1, f.X.SA.Ctx.Connect(fresh, RdmaFixture.GidB, qpn));
            Assert.Equal("invalid-qpn", f.X.SA.Reason);
        }
        Assert.Equal(-1, f.X.SA.Ctx.Connect(fresh, RdmaFixture.GidB, 20, new RdmaConnectOptions { PathMtu = 1000 }));
        Assert.Equal("invalid-argument", f.X.SA.Reason);
    }

    [Fact]
    public void RD_58_a_peer_that_did_not_connect_drops_the_requests()
    {
        using var f = new F1(connectB: false);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12);
        Assert.Equal(12, f.X.SA.One(f.QA).Status);
        Assert.True(f.Unchanged(f.Dst));
        Assert.True(f.X.B.DropReasons["source address is not the QP's peer"] >= 1);
    }

    [Fact]
    public void RD_59_messages_longer_than_2_pow_31_are_refused()
    {
        int q = _s.Ctx.CreateQp(8, 8);
        const ulong tooLong = (1UL << 31) + 1;
        Assert.Equal(-1, _s.Ctx.PostWrite(q, _mr, 0, 0, 0, tooLong));
        Assert.Equal("message-too-long", _s.Reason);
        Assert.Equal(-1, _s.Ctx.PostSend(q, _mr, tooLong));
        Assert.Equal("message-too-long", _s.Reason);
        Assert.Equal(-1, _s.Ctx.PostRecv(q, _mr, tooLong));
        Assert.Equal("message-too-long", _s.Reason);
    }
}
