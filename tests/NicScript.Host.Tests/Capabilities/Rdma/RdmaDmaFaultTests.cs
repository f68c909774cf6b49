using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using NicScript.Host.Capabilities;
using NicScript.Host.Families.Rdma;

namespace NicScript.Host.Tests.Capabilities.Rdma;

/// <summary>Issue 17 B end to end for RDMA: a V-Node that frees the buffer under its MR and lets another V-Node on the same
/// host take its IOVA cannot read it through the stale MR: the WR completes with LOC_PROT_ERR, and the audit has one
/// <c>dma_fault</c> under the V-Node that posted it, none under the victim.</summary>
public sealed class RdmaDmaFaultTests
{
    [Fact]
    public void AStaleMrOverAnotherVNodesBuffer_IsALocalProtectionError_AuditedUnderThePoster()
    {
        using var v = TestVNode.Create("attacker", "  - CAP_RDMA\n  - CAP_DMA_ALLOC");
        VNodeContext victim = v.AdmitPeer("victim", "  - CAP_RDMA\n  - CAP_DMA_ALLOC");
        RdmaHandle rdma = v.Handles.Family<RdmaHandle>();
        DmaBuffer src = v.Handles.Dma.Alloc(4096), dst = v.Handles.Dma.Alloc(4096);
        long srcMr = rdma.rdma_reg_mr(src, 4096, 0), dstMr = rdma.rdma_reg_mr(dst, 4096, RdmaAccess.RDMA_ACCESS_LOCAL_WRITE | RdmaAccess.RDMA_ACCESS_REMOTE_WRITE);
        long qp = rdma.rdma_create_qp(4, 4); // connected to itself
        Assert.True(srcMr > 0 && dstMr > 0 && qp > 0);
        double iova = src.Iova;
        src.Free();

        VNodeHandles theirs = v.Broker.Handles(victim);
        Assert.NotNull(theirs.Family<RdmaHandle>().rdma_query_gid()); // the victim opens RDMA on the same device: both are in its domain
        DmaBuffer secret = theirs.Dma.Alloc(4096);
        secret.Fill(0x5E);
        Assert.Equal(iova, secret.Iova);

        RdmaMrInfo d = rdma.rdma_query_mr((int)dstMr)!;
        Assert.True(rdma.rdma_post_write((int)qp, (int)srcMr, 0, d.Addr, d.Rkey, 64) >= 0);
        RdmaWc[] wc = rdma.rdma_wc_array(1);
        int n = 0;
        for (int i = 0; i < 50 && n == 0; i++) n = (int)rdma.rdma_poll_cq((int)qp, wc, 1);
        Assert.Equal(1, n);
        Assert.Equal(RdmaWcStatus.RDMA_WC_LOC_PROT_ERR, wc[0].status);
        Assert.All(dst.Span(0, 4096, write: false).ToArray(), b => Assert.Equal(0, b));
        var (vnode, fault) = Assert.Single(v.Audit.DmaFaults);
        Assert.Equal(("attacker", (ulong)iova, 64, false, DmaError.IommuFault), (vnode, fault.Iova, fault.Length, fault.Write, fault.Reason));
    }
}
