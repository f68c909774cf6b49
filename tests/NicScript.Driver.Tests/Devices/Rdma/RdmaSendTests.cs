using System.Buffers.Binary;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Checklist RD-10, RD-20…RD-32: the seed's example, local checks, zero length, SEND and receive.</summary>
public sealed class RdmaSendTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RD_10_the_seeds_example_ported_line_by_line(bool useRealKey)
    {
        using var x = new RdmaFixture();
        Side s = x.SA;
        // The seed's program, with char buffers as DMA buffers.
        DmaRegion sendBuf = s.Buffer(4096), recvBuf = s.Buffer(4096);
        "Test message\0"u8.CopyTo(Side.Bytes(sendBuf));
        int sendMr = s.Ctx.RegMr(sendBuf.Iova, 4096, RDMA_ACCESS_LOCAL_WRITE);
        int recvMr = s.Ctx.RegMr(recvBuf.Iova, 4096, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
        Assert.True(sendMr >= 1 && recvMr >= 1);
        int qpNum = s.Ctx.CreateQp(10, 10);
        Assert.True(qpNum >= 0);
        ulong remoteAddr = useRealKey ? s.Info(recvMr).Addr : 0x80000000;
        uint remoteRkey = useRealKey ? s.Info(recvMr).Rkey : 12345;
        long wrId = s.Ctx.PostWrite(qpNum, sendMr, 0, remoteAddr, remoteRkey, 12);
        Assert.True(wrId >= 0);
        var wc = new RdmaCompletion[1];
        int status = -1;
        for (int spins = 0; spins < 1000; spins++)
        {
            int n = s.Ctx.PollCq(qpNum, wc, 1);
            if (n > 0) { status = wc[0].Status; break; }
        }
        Assert.Equal(useRealKey ? RdmaWcStatus.RDMA_WC_SUCCESS : RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR, status);
        if (useRealKey) Assert.Equal("Test message"u8.ToArray(), Side.Bytes(recvBuf)[..12].ToArray());
        Assert.Equal(0, s.Ctx.DestroyQp(qpNum));
        Assert.Equal(0, s.Ctx.DeregMr(sendMr));
        Assert.Equal(0, s.Ctx.DeregMr(recvMr));
        Assert.Empty(x.Captured); // a loopback QP never reaches the wire
    }

    [Fact]
    public void RD_20_a_local_range_past_the_mr_fails_locally_and_sends_nothing()
    {
        using var f = new F1();
        long id = f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 4000, f.DstInfo.Addr, f.DstInfo.Rkey, 200);
        Assert.True(id >= 0);
        RdmaCompletion c = f.X.SA.One(f.QA);
        Assert.Equal((4, 1, 0ul), (c.Status, c.Opcode, c.ByteLen));
        Assert.Empty(f.X.Roce);
        Assert.True(f.Unchanged(f.Dst));
        Assert.Equal((6, 3), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
    }

    [Fact]
    public void RD_21_deregistering_the_source_before_the_engine_runs_fails_the_write()
    {
        using var f = new F1();
        Assert.True(f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 12) >= 0);
        Assert.Equal(0, f.X.SA.Ctx.DeregMr(f.SrcMr));
        Assert.Equal(4, f.X.SA.One(f.QA).Status);
        Assert.Equal(6, f.X.SA.Ctx.QpState(f.QA));
    }

    [Fact]
    public void RD_22_a_receive_mr_without_local_write_is_a_remote_op_error()
    {
        using var f = new F1();
        DmaRegion b = f.X.SB.Buffer(64, 0xEE);
        int mr = f.X.SB.Reg(b, 0);
        Assert.Equal(0, f.X.SB.Ctx.PostRecv(f.QB, mr, 64));
        Assert.True(f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8) >= 0);
        RdmaCompletion a = f.X.SA.One(f.QA), rb = f.X.SB.One(f.QB);
        Assert.Equal((4, 128, 0ul), (rb.Status, rb.Opcode, rb.ByteLen));
        Assert.Equal((11, 0), (a.Status, a.Opcode));
        Assert.Equal((6, 6), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
        Assert.True(Side.Bytes(b).IndexOfAnyExcept((byte)0xEE) < 0);
        Assert.Equal(0x63, RdmaFixture.Syndrome(f.X.Roce.Single(x => RdmaFixture.Opcode(x) == 0x11)));
    }

    [Fact]
    public void RD_23_a_zero_length_write_checks_no_key_and_sends_one_empty_write_only()
    {
        using var f = new F1();
        Assert.True(f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, 0, 0, 0) >= 0);
        RdmaCompletion c = f.X.SA.One(f.QA);
        Assert.Equal((0, 0ul), (c.Status, c.ByteLen));
        byte[] req = Assert.Single(f.X.Roce, x => RdmaFixture.Opcode(x) != 0x11);
        Assert.Equal(0x0A, RdmaFixture.Opcode(req));
        Assert.Equal(new byte[16], req.AsSpan(54, 16).ToArray()); // RETH: VA 0, R_Key 0, DMA length 0
        Assert.Equal(40, BinaryPrimitives.ReadUInt16BigEndian(req.AsSpan(38)));
        Assert.Equal(3, f.X.SB.Ctx.QpState(f.QB));
        Assert.True(f.Unchanged(f.Dst));
    }

    [Fact]
    public void RD_24_a_zero_length_send_consumes_a_receive_and_is_padded_to_60_bytes()
    {
        using var f = new F1();
        Assert.Equal(0, f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096));
        Assert.True(f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 0) >= 0);
        RdmaCompletion a = f.X.SA.One(f.QA), b = f.X.SB.One(f.QB);
        Assert.Equal((0, 128, 0ul), (b.Status, b.Opcode, b.ByteLen));
        Assert.Equal((0, 0, 0ul), (a.Status, a.Opcode, a.ByteLen));
        Assert.True(f.Unchanged(f.Rcv));
        byte[] req = Assert.Single(f.X.Roce, x => RdmaFixture.Opcode(x) != 0x11);
        Assert.Equal((0x04, 24, 60), (RdmaFixture.Opcode(req), (int)BinaryPrimitives.ReadUInt16BigEndian(req.AsSpan(38)), req.Length));
    }

    [Fact]
    public void RD_25_a_send_fills_the_posted_receive_from_offset_0()
    {
        using var f = new F1();
        Assert.Equal(0, f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096));
        long id = f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 100);
        RdmaCompletion b = f.X.SB.One(f.QB), a = f.X.SA.One(f.QA);
        Assert.Equal((0L, 0, 128, 100ul), (b.WrId, b.Status, b.Opcode, b.ByteLen));
        Assert.Equal(Side.Bytes(f.Src)[..100].ToArray(), Side.Bytes(f.Rcv)[..100].ToArray());
        Assert.True(Side.Bytes(f.Rcv)[100..].IndexOfAnyExcept((byte)0xEE) < 0);
        Assert.Equal((id, 0, 0, 100ul), (a.WrId, a.Status, a.Opcode, a.ByteLen));
    }

    [Fact]
    public void RD_26_receives_are_consumed_in_order()
    {
        using var f = new F1();
        DmaRegion x = f.X.SB.Buffer(64), y = f.X.SB.Buffer(64);
        int mx = f.X.SB.Reg(x, RDMA_ACCESS_LOCAL_WRITE), my = f.X.SB.Reg(y, RDMA_ACCESS_LOCAL_WRITE);
        long r1 = f.X.SB.Ctx.PostRecv(f.QB, mx, 64), r2 = f.X.SB.Ctx.PostRecv(f.QB, my, 64);
        Side.Bytes(f.Src)[..10].Fill(1);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 10);
        f.X.SA.One(f.QA);
        Side.Bytes(f.Src)[..20].Fill(2);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 20);
        f.X.SA.One(f.QA);
        RdmaCompletion[] got = f.X.SB.Poll(f.QB);
        Assert.Equal([(r1, 10ul), (r2, 20ul)], got.Select(c => (c.WrId, c.ByteLen)));
        Assert.True(Side.Bytes(x)[..10].IndexOfAnyExcept((byte)1) < 0);
        Assert.True(Side.Bytes(y)[..20].IndexOfAnyExcept((byte)2) < 0);
    }

    [Fact]
    public void RD_27_without_a_receive_the_sender_retries_on_rnr_forever_until_one_appears()
    {
        using var f = new F1();
        long id = f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 64);
        for (int i = 0; i < 50; i++) Assert.Empty(f.X.SA.Poll(f.QA));
        uint sendPsn = RdmaFixture.Psn(f.X.Roce.First(x => RdmaFixture.Opcode(x) == 0x04));
        var rnrs = f.X.Roce.Where(x => RdmaFixture.Opcode(x) == 0x11).ToList();
        Assert.True(rnrs.Count >= 10);
        Assert.All(rnrs, n => Assert.Equal((0x2C, sendPsn), (RdmaFixture.Syndrome(n), RdmaFixture.Psn(n))));
        Assert.Equal(0, f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096));
        RdmaCompletion a = f.X.SA.One(f.QA);
        Assert.Equal((id, 0), (a.WrId, a.Status));
        RdmaCompletion b = Assert.Single(f.X.SB.Poll(f.QB));
        Assert.Equal((0, 64ul), (b.Status, b.ByteLen));
        Assert.Equal(Side.Bytes(f.Src)[..64].ToArray(), Side.Bytes(f.Rcv)[..64].ToArray());
    }

    [Fact]
    public void RD_28_rnr_retry_0_fails_at_the_first_rnr()
    {
        using var f = new F1(options: new RdmaConnectOptions { RnrRetry = 0 });
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        RdmaCompletion a = f.X.SA.One(f.QA);
        Assert.Equal((13, 0), (a.Status, a.Opcode));
        Assert.Equal((6, 3), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
        Assert.Empty(f.X.SB.Poll(f.QB));
    }

    [Fact]
    public void RD_29_rnr_retry_2_sends_three_times_then_fails()
    {
        using var f = new F1(options: new RdmaConnectOptions { RnrRetry = 2 });
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        Assert.Equal(13, f.X.SA.One(f.QA).Status);
        Assert.Equal(3, f.X.Roce.Count(x => RdmaFixture.Opcode(x) == 0x04));
        Assert.Equal(3, f.X.Roce.Count(x => RdmaFixture.Opcode(x) == 0x11 && RdmaFixture.Syndrome(x) == 0x2C));
    }

    [Fact]
    public void RD_30_a_send_longer_than_the_receive_is_an_invalid_request()
    {
        using var f = new F1();
        DmaRegion small = f.X.SB.Buffer(64, 0xEE);
        f.X.SB.Ctx.PostRecv(f.QB, f.X.SB.Reg(small, RDMA_ACCESS_LOCAL_WRITE), 64);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 65);
        RdmaCompletion b = f.X.SB.One(f.QB), a = f.X.SA.One(f.QA);
        Assert.Equal((1, 128, 0ul), (b.Status, b.Opcode, b.ByteLen));
        Assert.Equal((9, 0), (a.Status, a.Opcode));
        Assert.Equal(0x61, RdmaFixture.Syndrome(f.X.Roce.Single(x => RdmaFixture.Opcode(x) == 0x11)));
        Assert.Equal((6, 6), (f.X.SA.Ctx.QpState(f.QA), f.X.SB.Ctx.QpState(f.QB)));
        Assert.True(Side.Bytes(small).IndexOfAnyExcept((byte)0xEE) < 0);
    }

    [Fact]
    public void RD_31_a_write_consumes_no_receive()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 16);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        f.X.SA.One(f.QA);
        f.X.SA.One(f.QA);
        RdmaCompletion b = Assert.Single(f.X.SB.Poll(f.QB));
        Assert.Equal((128, 8ul), (b.Opcode, b.ByteLen));
    }

    [Fact]
    public void RD_32_a_write_before_a_send_is_placed_before_the_receive_completes()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 64);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        RdmaCompletion b = f.X.SB.One(f.QB);
        Assert.Equal(128, b.Opcode);
        Assert.Equal(Side.Bytes(f.Src)[..64].ToArray(), Side.Bytes(f.Dst)[..64].ToArray());
    }
}
