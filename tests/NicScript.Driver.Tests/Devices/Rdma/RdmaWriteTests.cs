using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Checklist RD-09…RD-19: RDMA WRITE and the responder's remote checks.</summary>
public sealed class RdmaWriteTests : IDisposable
{
    private readonly F1 _f = new();

    public void Dispose() => _f.Dispose();

    private Side SA => _f.X.SA;

    private RdmaCompletion WriteAndWait(ulong addr, uint rkey, ulong length, ulong offset = 0)
    {
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, offset, addr, rkey, length) >= 0, SA.Reason);
        return SA.One(_f.QA);
    }

    [Fact]
    public void RD_09_a_write_lands_and_completes_on_the_sender_only()
    {
        RdmaMrInfo d = _f.DstInfo;
        Assert.Equal(0, SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, d.Addr, d.Rkey, 12));
        _f.X.Run();
        RdmaCompletion[] wc = SA.Poll(_f.QA, 4);
        Assert.Equal((0L, 0, 1, 12ul), (Assert.Single(wc).WrId, wc[0].Status, wc[0].Opcode, wc[0].ByteLen));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), Side.Bytes(_f.Dst)[..12].ToArray());
        Assert.True(Side.Bytes(_f.Dst)[12..].IndexOfAnyExcept((byte)0xEE) < 0);
        Assert.Empty(_f.X.SB.Poll(_f.QB, 4));
    }

    [Fact]
    public void RD_11_a_target_without_remote_write_is_a_remote_access_error_and_both_qps_fail()
    {
        RdmaMrInfo r = _f.X.SB.Info(_f.RcvMr);
        RdmaCompletion c = WriteAndWait(r.Addr, r.Rkey, 12);
        Assert.Equal((10, 1, 0ul), (c.Status, c.Opcode, c.ByteLen));
        Assert.True(_f.Unchanged(_f.Rcv));
        Assert.Equal(6, SA.Ctx.QpState(_f.QA));
        Assert.Equal(6, _f.X.SB.Ctx.QpState(_f.QB));
        byte[] nak = Assert.Single(_f.X.Roce, x => RdmaFixture.Opcode(x) == 0x11);
        Assert.Equal(0x62, RdmaFixture.Syndrome(nak));
        Assert.Equal(RdmaFixture.Psn(_f.X.Roce.First(x => RdmaFixture.Opcode(x) != 0x11)), RdmaFixture.Psn(nak));
    }

    [Fact]
    public void RD_12_a_changed_key_byte_is_refused() =>
        Assert.Equal(10, WriteAndWait(_f.DstInfo.Addr, _f.DstInfo.Rkey ^ 0x01, 12).Status);

    [Fact]
    public void RD_13_a_key_naming_no_mr_is_refused()
    {
        Assert.Equal(10, WriteAndWait(_f.DstInfo.Addr, (_f.X.B.HighestMrIndexForTests() + 50) << 8, 12).Status);
        Assert.True(_f.Unchanged(_f.Dst));
    }

    [Fact]
    public void RD_14_an_address_before_the_mr_is_refused()
    {
        Assert.Equal(10, WriteAndWait(_f.DstInfo.Addr - 1, _f.DstInfo.Rkey, 8).Status);
        Assert.True(_f.Unchanged(_f.Dst));
    }

    [Fact]
    public void RD_15_a_range_past_the_end_is_refused_on_the_first_packet_and_nothing_is_written()
    {
        Assert.Equal(10, WriteAndWait(_f.DstInfo.Addr + 1, _f.DstInfo.Rkey, 4096).Status);
        Assert.True(_f.Unchanged(_f.Dst));
    }

    [Fact]
    public void RD_16_a_full_4096_byte_write_copies_the_buffer()
    {
        RdmaCompletion c = WriteAndWait(_f.DstInfo.Addr, _f.DstInfo.Rkey, 4096);
        Assert.Equal((0, 4096ul), (c.Status, c.ByteLen));
        Assert.Equal(Side.Bytes(_f.Src).ToArray(), Side.Bytes(_f.Dst).ToArray());
    }

    [Fact]
    public void RD_17_a_target_with_only_local_write_and_remote_read_is_refused()
    {
        DmaRegion t = _f.X.SB.Buffer(4096, 0xEE);
        RdmaMrInfo i = _f.X.SB.Info(_f.X.SB.Reg(t, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_READ));
        Assert.Equal(10, WriteAndWait(i.Addr, i.Rkey, 12).Status);
    }

    [Fact]
    public void RD_18_an_mr_of_another_script_on_the_same_host_is_another_pd()
    {
        Side other = _f.X.NewSide(_f.X.B, "SB2");
        DmaRegion t = other.Buffer(4096, 0xEE);
        RdmaMrInfo i = other.Info(other.Reg(t, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE));
        Assert.Equal(10, WriteAndWait(i.Addr, i.Rkey, 12).Status);
        Assert.True(Side.Bytes(t).IndexOfAnyExcept((byte)0xEE) < 0);
    }

    [Fact]
    public void RD_19_a_deregistered_target_is_refused_and_unchanged()
    {
        RdmaMrInfo d = _f.DstInfo;
        Assert.Equal(0, _f.X.SB.Ctx.DeregMr(_f.DstMr));
        Assert.Equal(10, WriteAndWait(d.Addr, d.Rkey, 12).Status);
        Assert.True(_f.Unchanged(_f.Dst));
    }
}
