using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Checklist RD-01…RD-08 of reference/rdma.md: registration, handles and the capability.</summary>
public sealed class RdmaRegistrationTests : IDisposable
{
    private readonly RdmaFixture _x = new();

    public void Dispose() => _x.Dispose();

    private Side S => _x.SA;

    [Fact]
    public void RD_01_a_registered_mr_has_its_range_access_and_equal_keys()
    {
        DmaRegion buf = S.Buffer(4096);
        int h = S.Reg(buf, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
        Assert.True(h >= 1);
        RdmaMrInfo i = S.Info(h);
        Assert.Equal((buf.Iova, 4096ul, 3), (i.Addr, i.Length, i.Access));
        Assert.Equal(i.Lkey, i.Rkey);
        Assert.True(i.Lkey >> 8 >= 1);
    }

    [Fact]
    public void RD_02_remote_write_or_atomic_needs_local_write_and_remote_read_alone_is_legal()
    {
        DmaRegion buf = S.Buffer(4096);
        Assert.Equal(-1, S.Reg(buf, RDMA_ACCESS_REMOTE_WRITE));
        Assert.Equal("remote-write-needs-local-write", S.Reason);
        Assert.Equal(-1, S.Reg(buf, RDMA_ACCESS_REMOTE_ATOMIC));
        Assert.Equal("remote-write-needs-local-write", S.Reason);
        Assert.True(S.Reg(buf, RDMA_ACCESS_REMOTE_READ) >= 1);
    }

    [Fact]
    public void RD_03_flags_outside_0xF_are_invalid()
    {
        DmaRegion buf = S.Buffer(4096);
        Assert.True(S.Reg(buf, 0) >= 1);
        foreach (int flags in new[] { 0x10, 0x100 })
        {
            Assert.Equal(-1, S.Reg(buf, flags));
            Assert.Equal("invalid-access-flags", S.Reason);
        }
    }

    [Fact]
    public void RD_04_empty_or_foreign_ranges_are_refused()
    {
        DmaRegion buf = S.Buffer(4096);
        Assert.Equal(-1, S.Ctx.RegMr(buf.Iova, 0, RDMA_ACCESS_LOCAL_WRITE));
        Assert.Equal("invalid-length", S.Reason);
        Assert.Equal(-1, S.Ctx.RegMr(0x10, 64, RDMA_ACCESS_LOCAL_WRITE));
        Assert.Equal("bad-address", S.Reason);
        Assert.Equal(-1, S.Ctx.RegMr(buf.Iova, 4097, RDMA_ACCESS_LOCAL_WRITE));
        Assert.Equal("bad-address", S.Reason);
        DmaRegion other = _x.SB.Buffer(4096); // another script's memory
        Assert.Equal(-1, S.Reg(other, RDMA_ACCESS_LOCAL_WRITE));
        Assert.Equal("bad-address", S.Reason);
    }

    [Fact]
    public void RD_05_the_same_buffer_twice_gives_two_handles_and_two_keys_that_both_work()
    {
        using var f = new F1();
        int second = f.X.SA.Reg(f.Src, 0);
        Assert.NotEqual(f.SrcMr, second);
        Assert.NotEqual(f.X.SA.Info(f.SrcMr).Lkey >> 8, f.X.SA.Info(second).Lkey >> 8);
        RdmaMrInfo dst = f.DstInfo;
        Assert.Equal(0, f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, dst.Addr, dst.Rkey, 8));
        Assert.Equal(1, f.X.SA.Ctx.PostWrite(f.QA, second, 8, dst.Addr + 8, dst.Rkey, 8));
        Assert.Equal(RdmaWcStatus.RDMA_WC_SUCCESS, f.X.SA.One(f.QA).Status);
        Assert.Equal(RdmaWcStatus.RDMA_WC_SUCCESS, f.X.SA.One(f.QA).Status);
        Assert.Equal(Side.Bytes(f.Src)[..16].ToArray(), Side.Bytes(f.Dst)[..16].ToArray());
    }

    [Fact]
    public void RD_06_dereg_once_then_not_registered_never_issued_is_invalid_and_handles_are_not_reused()
    {
        DmaRegion buf = S.Buffer(4096);
        int h = S.Reg(buf, RDMA_ACCESS_LOCAL_WRITE);
        Assert.Equal(0, S.Ctx.DeregMr(h));
        Assert.Equal(-1, S.Ctx.DeregMr(h));
        Assert.Equal("mr-not-registered", S.Reason);
        Assert.Equal(-1, S.Ctx.DeregMr(123456));
        Assert.Equal("invalid-mr-handle", S.Reason);
        Assert.Equal(-1, S.Ctx.DeregMr(-1));
        Assert.Equal("invalid-mr-handle", S.Reason);
        Assert.NotEqual(h, S.Reg(buf, RDMA_ACCESS_LOCAL_WRITE));
    }

    [Fact]
    public void RD_07_posting_with_a_bad_handle_fails_and_consumes_no_wr_id()
    {
        DmaRegion buf = S.Buffer(4096);
        int q = S.Ctx.CreateQp(8, 8), h = S.Reg(buf, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
        RdmaMrInfo i = S.Info(h);
        Assert.Equal(0, S.Ctx.PostWrite(q, h, 0, i.Addr, i.Rkey, 8));
        int gone = S.Reg(buf, RDMA_ACCESS_LOCAL_WRITE);
        S.Ctx.DeregMr(gone);
        Assert.Equal(-1, S.Ctx.PostWrite(q, gone, 0, i.Addr, i.Rkey, 8));
        Assert.Equal("mr-not-registered", S.Reason);
        Assert.Equal(-1, S.Ctx.PostSend(q, 999, 8));
        Assert.Equal("invalid-mr-handle", S.Reason);
        Assert.Equal(1, S.Ctx.PostWrite(q, h, 0, i.Addr, i.Rkey, 8));
    }
}
