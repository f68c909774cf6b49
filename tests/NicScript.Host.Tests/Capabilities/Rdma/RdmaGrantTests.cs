using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Capabilities.Rdma;

/// <summary>Without CAP_RDMA every rdma_* call that touches the device answers its failure value with <c>capability-denied</c>, audited.</summary>
public sealed class RdmaGrantTests
{
    [Theory]
    [InlineData("rdma.rdma_query_gid()", "null", "rdma_query_gid")]
    [InlineData("rdma.rdma_query_mr(1)", "null", "rdma_query_mr")]
    [InlineData("rdma.rdma_create_qp(4, 4)", "-1", "rdma_create_qp")]
    [InlineData("rdma.rdma_destroy_qp(1)", "-1", "rdma_destroy_qp")]
    [InlineData("rdma.rdma_reg_mr(dma.alloc(64), 64, 1)", "-1", "rdma_reg_mr")]
    [InlineData("rdma.rdma_dereg_mr(1)", "-1", "rdma_dereg_mr")]
    [InlineData("rdma.rdma_post_send(1, 1, 8)", "-1", "rdma_post_send")]
    [InlineData("rdma.rdma_post_recv(1, 1, 8)", "-1", "rdma_post_recv")]
    [InlineData("rdma.rdma_post_write(1, 1, 0, 0, 0, 8)", "-1", "rdma_post_write")]
    [InlineData("rdma.rdma_poll_cq(1, rdma.rdma_wc_array(1), 1)", "-1", "rdma_poll_cq")]
    [InlineData("rdma.rdma_connect(1, '::ffff:192.0.2.1', 1)", "-1", "rdma_connect")]
    [InlineData("rdma.rdma_qp_state(1)", "-1", "rdma_qp_state")]
    [InlineData("rdma.rdma_modify_qp(1, 1)", "-1", "rdma_modify_qp")]
    public void RdmaCall_WithoutCapRdma_FailureValueCapabilityDeniedAndAudited(string call, string answer, string name)
    {
        RunReport report = ScriptRun.Run("r.js", $"const a = {call};\nJSON.stringify([a === null ? 'null' : String(a), rdma.rdma_last_error().reason, rdma.rdma_last_error().errno])");
        VNodeReport v = report.VNodes.Single();
        Assert.True(v.Status == VNodeStatus.Completed, v.Error);
        Assert.Equal($"[\"{answer}\",\"capability-denied\",\"EACCES\"]", v.Result);
        CapabilityDenialAssert(report, name);
    }

    private static void CapabilityDenialAssert(RunReport report, string call)
    {
        var denial = Assert.Single(report.Denials);
        Assert.Equal("CAP_RDMA", denial.Capability);
        Assert.Contains(call, denial.Reason);
    }

    [Fact]
    public void QueryGid_WithCapRdma_IsTheDevicesGid()
    {
        RunReport report = ScriptRun.Run("r.js", "rdma.rdma_query_gid()", "  - CAP_RDMA\n  - CAP_LOG_WRITE");
        Assert.Equal("::ffff:192.0.2.1", report.VNodes.Single().Result);
        Assert.Empty(report.Denials);
    }
}
