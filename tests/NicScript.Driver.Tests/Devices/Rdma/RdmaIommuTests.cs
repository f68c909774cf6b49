using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Issue 17 B for the soft-RoCE engine: every DMA it does through an MR stays inside the function's IOMMU domain
/// and inside what the MR's script still holds. Memory under an MR that was freed — or whose IOVA now belongs to another
/// script on the same function — is a counted DMA fault: the requester's WR completes with LOC_PROT_ERR, a responder's
/// RDMA WRITE is NAKed (REM_ACCESS_ERR), a receive completes with LOC_PROT_ERR (the sender sees REM_OP_ERR); no foreign byte
/// is read onto the wire or written.</summary>
public sealed class RdmaIommuTests : IDisposable
{
    private static readonly byte[] Secret = Enumerable.Repeat((byte)0x5E, 32).ToArray();
    private readonly F1 _f = new();

    public void Dispose() => _f.Dispose();

    private Side SA => _f.X.SA;
    private Side SB => _f.X.SB;
    private IommuDomain DomainA => _f.X.A.Domain;
    private IommuDomain DomainB => _f.X.B.Domain;

    /// <summary>Nothing that crossed the wire carried the victim's bytes.</summary>
    private bool SecretNeverOnTheWire => _f.X.Captured.All(frame => frame.AsSpan().IndexOf(Secret) < 0);

    private static bool Intact(DmaRegion r) => Side.Bytes(r).IndexOfAnyExcept((byte)0x5E) < 0;

    /// <summary>Frees <paramref name="r"/> and lets a second script on the same RDMA device take its IOVA, filled with the secret.</summary>
    private DmaRegion HandToAnotherScript(Side from, RdmaDevice device, DmaRegion r)
    {
        ulong iova = r.Iova;
        Assert.Equal(DmaError.None, _f.X.Machine.Dma.Free(from.Owner, r));
        Side victim = _f.X.NewSide(device, "victim");
        DmaRegion secret = victim.Buffer(4096, 0x5E);
        Assert.Equal(iova, secret.Iova); // first fit: the stale MR now covers the victim's buffer
        return secret;
    }

    [Fact]
    public void A_send_from_an_mr_whose_memory_another_script_now_holds_is_a_local_protection_error_and_leaks_nothing()
    {
        DmaRegion secret = HandToAnotherScript(SA, _f.X.A, _f.Src);
        Assert.True(SB.Ctx.PostRecv(_f.QB, _f.RcvMr, 4096) >= 0);
        Assert.True(SA.Ctx.PostSend(_f.QA, _f.SrcMr, 64) >= 0);
        RdmaCompletion c = SA.One(_f.QA);
        Assert.Equal((RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, RdmaWcOpcode.RDMA_WC_SEND, 0ul), (c.Status, c.Opcode, c.ByteLen));
        Assert.True(SecretNeverOnTheWire);
        Assert.True(_f.Unchanged(_f.Rcv));
        Assert.True(Intact(secret));
        Assert.Equal(1, DomainA.Faults);
    }

    [Fact]
    public void A_write_sourced_from_freed_memory_after_it_was_posted_fails_with_a_local_protection_error()
    {
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, _f.DstInfo.Addr, _f.DstInfo.Rkey, 64) >= 0);
        Assert.Equal(DmaError.None, _f.X.Machine.Dma.Free(SA.Owner, _f.Src)); // between post and service
        RdmaCompletion c = SA.One(_f.QA);
        Assert.Equal((RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, RdmaWcOpcode.RDMA_WC_RDMA_WRITE), (c.Status, c.Opcode));
        Assert.Empty(_f.X.Roce);
        Assert.True(_f.Unchanged(_f.Dst));
        Assert.Equal(1, DomainA.Faults);
    }

    [Fact]
    public void A_write_sourced_from_a_borrowed_buffer_is_sent_until_the_loan_is_revoked()
    {
        Side lender = _f.X.NewSide(_f.X.A, "lender");
        DmaRegion lent = lender.Buffer(4096, 0x5E);
        Assert.Equal(DmaError.None, lent.Lend(lender.Owner, SA.Owner));
        int mr = SA.Reg(lent, 0);
        Assert.True(mr > 0, SA.Reason);
        Assert.True(SA.Ctx.PostWrite(_f.QA, mr, 0, _f.DstInfo.Addr, _f.DstInfo.Rkey, 32) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_SUCCESS, SA.One(_f.QA).Status);
        Assert.Equal(Secret, Side.Bytes(_f.Dst)[..32].ToArray()); // lent: readable, so sent

        using var g = new F1();
        int mr2 = RegLentAndRevoke(g);
        Assert.True(g.X.SA.Ctx.PostWrite(g.QA, mr2, 0, g.DstInfo.Addr, g.DstInfo.Rkey, 32) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, g.X.SA.One(g.QA).Status);
        Assert.True(g.Unchanged(g.Dst));
        Assert.Equal(1, g.X.A.Domain.Faults);
    }

    private static int RegLentAndRevoke(F1 g)
    {
        Side lender = g.X.NewSide(g.X.A, "lender");
        DmaRegion lent = lender.Buffer(4096, 0x5E);
        Assert.Equal(DmaError.None, lent.Lend(lender.Owner, g.X.SA.Owner));
        int mr = g.X.SA.Reg(lent, 0);
        Assert.True(mr > 0);
        Assert.Equal(DmaError.None, lent.Revoke(lender.Owner, g.X.SA.Owner));
        return mr;
    }

    [Fact]
    public void An_rdma_write_into_a_target_whose_memory_another_script_now_holds_is_nakked_and_writes_nothing()
    {
        RdmaMrInfo dst = _f.DstInfo;
        DmaRegion secret = HandToAnotherScript(SB, _f.X.B, _f.Dst);
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, dst.Addr, dst.Rkey, 64) >= 0);
        RdmaCompletion c = SA.One(_f.QA);
        Assert.Equal((RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR, RdmaWcOpcode.RDMA_WC_RDMA_WRITE), (c.Status, c.Opcode));
        Assert.True(Intact(secret));
        Assert.Equal(1, DomainB.Faults);
        Assert.Equal(0, DomainA.Faults);
        Assert.Equal(RdmaQpState.RDMA_QPS_ERR, SB.Ctx.QpState(_f.QB));
    }

    [Fact]
    public void An_rdma_write_into_freed_target_memory_is_nakked()
    {
        RdmaMrInfo dst = _f.DstInfo;
        Assert.Equal(DmaError.None, _f.X.Machine.Dma.Free(SB.Owner, _f.Dst));
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, dst.Addr, dst.Rkey, 4096) >= 0); // four packets: the first is refused
        Assert.Equal(RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR, SA.One(_f.QA).Status);
        Assert.Equal(1, DomainB.Faults);
    }

    [Fact]
    public void An_rdma_write_into_a_buffer_the_target_only_borrows_is_nakked_and_the_lender_keeps_its_bytes()
    {
        Side lender = _f.X.NewSide(_f.X.B, "lender");
        DmaRegion lent = lender.Buffer(4096, 0x5E);
        Assert.Equal(DmaError.None, lent.Lend(lender.Owner, SB.Owner));
        int mr = SB.Reg(lent, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE); // registration only reads: it passes
        Assert.True(mr > 0, SB.Reason);
        RdmaMrInfo info = SB.Info(mr);
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, info.Addr, info.Rkey, 64) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR, SA.One(_f.QA).Status);
        Assert.True(Intact(lent));
        Assert.Equal(1, DomainB.Faults);
    }

    [Theory]
    [InlineData(ulong.MaxValue - 7, 16ul)] // va + length wraps 2^64
    [InlineData(0ul, 16ul)]                // nowhere
    public void An_rdma_write_whose_range_wraps_or_misses_the_mr_is_refused_by_the_key_check(ulong va, ulong length)
    {
        Assert.True(SA.Ctx.PostWrite(_f.QA, _f.SrcMr, 0, va, _f.DstInfo.Rkey, length) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_REM_ACCESS_ERR, SA.One(_f.QA).Status);
        Assert.True(_f.Unchanged(_f.Dst));
    }

    [Fact]
    public void A_receive_into_memory_another_script_now_holds_completes_with_a_protection_error_and_writes_nothing()
    {
        Assert.True(SB.Ctx.PostRecv(_f.QB, _f.RcvMr, 4096) >= 0);
        DmaRegion secret = HandToAnotherScript(SB, _f.X.B, _f.Rcv);
        Assert.True(SA.Ctx.PostSend(_f.QA, _f.SrcMr, 64) >= 0);
        RdmaCompletion sent = SA.One(_f.QA);
        Assert.Equal(RdmaWcStatus.RDMA_WC_REM_OP_ERR, sent.Status);
        RdmaCompletion recv = Assert.Single(SB.Poll(_f.QB));
        Assert.Equal((RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, RdmaWcOpcode.RDMA_WC_RECV, 0ul), (recv.Status, recv.Opcode, recv.ByteLen));
        Assert.True(Intact(secret));
        Assert.Equal(1, DomainB.Faults);
    }

    [Fact]
    public void A_zero_length_send_from_freed_memory_touches_no_memory_and_succeeds()
    {
        Assert.Equal(DmaError.None, _f.X.Machine.Dma.Free(SA.Owner, _f.Src));
        Assert.True(SB.Ctx.PostRecv(_f.QB, _f.RcvMr, 4096) >= 0);
        Assert.True(SA.Ctx.PostSend(_f.QA, _f.SrcMr, 0) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_SUCCESS, SA.One(_f.QA).Status);
        Assert.Equal(0, DomainA.Faults);
    }

    [Fact]
    public void The_fault_is_reported_to_the_script_whose_mr_it_was_and_not_to_the_other_scripts_on_the_function()
    {
        var attackerFaults = new Recorder();
        var victimFaults = new Recorder();
        Side attacker = Sided("attacker", attackerFaults);
        DmaRegion src = attacker.Buffer(4096, 0x11), dst = attacker.Buffer(4096, 0xEE);
        int srcMr = attacker.Reg(src, 0), dstMr = attacker.Reg(dst, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
        int qp = attacker.Ctx.CreateQp(4, 4); // connected to itself
        ulong iova = src.Iova;
        Assert.Equal(DmaError.None, _f.X.Machine.Dma.Free(attacker.Owner, src));
        Side victim = Sided("victim", victimFaults);
        DmaRegion secret = victim.Buffer(4096, 0x5E);
        Assert.Equal(iova, secret.Iova);
        RdmaMrInfo d = attacker.Info(dstMr);
        Assert.True(attacker.Ctx.PostWrite(qp, srcMr, 0, d.Addr, d.Rkey, 64) >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, attacker.One(qp).Status);
        Assert.True(Side.Bytes(dst).IndexOfAnyExcept((byte)0xEE) < 0);
        DmaFault fault = Assert.Single(attackerFaults.Faults);
        Assert.Equal(("attacker", iova, 64, false, DmaError.IommuFault), (fault.Driver, fault.Iova, fault.Length, fault.Write, fault.Reason));
        Assert.Empty(victimFaults.Faults);
        Assert.Equal(1, DomainA.Faults);
    }

    private Side Sided(string name, IDmaFaultSink sink)
    {
        DmaOwner owner = _f.X.Machine.Dma.CreateOwner(name, 1L << 26, sink);
        return new Side(new RdmaContext(_f.X.A, owner, name), _f.X.Machine.Dma, owner);
    }

    private sealed class Recorder : IDmaFaultSink
    {
        public List<DmaFault> Faults { get; } = new();

        public void DmaFault(DmaFault fault)
        {
            lock (Faults) Faults.Add(fault);
        }
    }
}
