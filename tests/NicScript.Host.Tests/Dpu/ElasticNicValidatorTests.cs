using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The ElasticNic service's rules on their own: a request against a state, no agent, no gRPC, no device.</summary>
public sealed class ElasticNicValidatorTests
{
    private static readonly DpuConfig Config = new();
    private readonly ElasticNicValidator _v = new(Config);

    private DpuState WithPort(uint vport, string uuid)
    {
        uint v = 0;
        return _v.NewPort(new NewPortRequest { Uuid = uuid, Vport = vport }, DpuState.Empty(Config), ref v).Next!;
    }

    [Fact]
    public void NewPort_WithoutUuid_IsInvalidArgumentAndChangesNothing()
    {
        uint vport = 0;
        DpuChange c = _v.NewPort(new NewPortRequest { Mtu = 9000 }, DpuState.Empty(Config), ref vport);
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "uuid must be 1-64 printable ASCII characters without spaces"), c.Outcome);
        Assert.False(c.Changes);
    }

    [Fact]
    public void NewPort_PinnedVport_AddsPortRowAndNicStep()
    {
        uint vport = 0;
        DpuChange c = _v.NewPort(new NewPortRequest { Uuid = "vm-13", Vport = 13, Mtu = 9000 }, DpuState.Empty(Config), ref vport);
        Assert.True(c.Changes);
        Assert.Equal(13u, vport);
        PortCfg port = c.Next!.Ports[13];
        Assert.Equal((9000u, 1u, 256u, ElasticNicValidator.DefaultFeatures), (port.Mtu, port.MaxQpair, port.QueueDepth, port.FeatureList));
        Assert.Equal(ByteString.CopyFrom(0x02, 0x4e, 0x53, 0x00, 0x00, 13), port.Mac);
        Assert.Equal(("ports", 13L), (c.Rows!.Single().Table, c.Rows!.Single().Key));
        Assert.Equal(new DpuDeviceStep.AddElasticNic(13, port), c.Step);
    }

    [Fact]
    public void NewPort_SameUuidAgain_IsNothingAndAnswersItsVport()
    {
        DpuState s = WithPort(13, "vm-13");
        uint vport = 0;
        DpuChange c = _v.NewPort(new NewPortRequest { Uuid = "vm-13" }, s, ref vport);
        Assert.Equal(DpuOutcome.Ok, c.Outcome);
        Assert.False(c.Changes);
        Assert.Equal(13u, vport);
    }

    [Fact]
    public void NewPort_MoreThanOneQueuePairWithoutMq_IsInvalidArgument()
    {
        uint vport = 0;
        DpuChange c = _v.NewPort(new NewPortRequest { Uuid = "vm-13", MaxQpair = 2, FeatureList = 1UL << 32 }, DpuState.Empty(Config), ref vport);
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "max_qpair 2 needs MQ (bit 22) in feature_list"), c.Outcome);
    }

    [Fact]
    public void DelPort_MissingVport_IsNotFound()
    {
        DpuChange c = ElasticNicValidator.DelPort(new DelPortRequest { Vport = 7 }, WithPort(13, "vm-13"));
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "vport 7 does not exist"), c.Outcome);
    }

    [Fact]
    public void SetPortCfg_SameValues_IsNothing()
    {
        DpuChange c = _v.SetPortCfg(new SetPortCfgRequest { Vport = 13, Mtu = 1500 }, WithPort(13, "vm-13"));
        Assert.Equal(DpuOutcome.Ok, c.Outcome);
        Assert.False(c.Changes);
    }
}
