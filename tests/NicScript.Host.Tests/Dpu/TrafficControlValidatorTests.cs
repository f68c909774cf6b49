using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The TrafficControl service's rules on their own: a request against a state, no agent, no gRPC, no switch.</summary>
public sealed class TrafficControlValidatorTests
{
    private static readonly DpuConfig Config = new();
    private readonly TrafficControlValidator _v = new(Config);

    private static DpuState WithMeter(uint id) =>
        new MeterValidator(Config).MeterAdd(new MeterAddRequest { Id = id, Rate = 1000 }, DpuState.Empty(Config)).Next!;

    private static ClassifierWriteRequest ToSoc(int keyIndex, uint? meter = null)
    {
        var action = new RuleAction { Vid = DpuAgent.SocBase + 1, Qid = 0 };
        if (meter is { } m) action.MeterId = m;
        return new ClassifierWriteRequest { KeyIndex = keyIndex, MaskRuleKey = new MaskRuleKey { Vlan = 100, VlanMask = 0xFFF }, Action = action };
    }

    [Fact]
    public void KeyProblem_MaskWithoutMac_SaysSo()
    {
        Assert.Equal("dmac_mask without dmac", TrafficControlValidator.KeyProblem(new MaskRuleKey { DmacMask = 0xFF }, keyIndex: 7));
        Assert.Null(TrafficControlValidator.KeyProblem(new MaskRuleKey { Dmac = ByteString.CopyFrom(2, 0, 0, 0, 0, 0), DmacMask = 0xFF0000000000 }, keyIndex: 7));
    }

    [Fact]
    public void ClassifierWrite_ToMissingVport_IsNotFound()
    {
        var r = new ClassifierWriteRequest { KeyIndex = 7, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 5, Qid = 0 } };
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "vport 5 does not exist"), _v.ClassifierWrite(r, DpuState.Empty(Config)).Outcome);
    }

    [Fact]
    public void ClassifierWrite_WithMeter_CountsTheReferenceAndDeleteReturnsIt()
    {
        DpuState s = _v.ClassifierWrite(ToSoc(7, meter: 10), WithMeter(10)).Next!;
        Assert.Equal(1u, s.Meters[10].RefCnt);
        DpuState after = TrafficControlValidator.ClassifierDelete(new ClassifierDeleteRequest { KeyIndex = 7 }, s).Next!;
        Assert.Equal(0u, after.Meters[10].RefCnt);
        Assert.Empty(after.Rules);
    }

    [Fact]
    public void ClassifierWrite_SameRuleAgain_IsNothing()
    {
        DpuState s = _v.ClassifierWrite(ToSoc(7), DpuState.Empty(Config)).Next!;
        DpuChange c = _v.ClassifierWrite(ToSoc(7), s);
        Assert.Equal(DpuOutcome.Ok, c.Outcome);
        Assert.False(c.Changes);
    }

    [Fact]
    public void ClassifierWrite_ToAnOpticalPort_IsAcceptedAndNamesItsQueues()
    {
        var r = new ClassifierWriteRequest { KeyIndex = 7, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = DpuAgent.OpticalBase + 1, Qid = 3, MeterId = 10 } };
        DpuChange c = _v.ClassifierWrite(r, WithMeter(10));
        Assert.Equal(DpuOutcome.Ok, c.Outcome);
        Assert.Equal(DpuAgent.OpticalBase + 1, c.Next!.Rules[7].Action.Vid);
        Assert.Equal(1u, c.Next.Meters[10].RefCnt);
        r.Action.Qid = Config.OpticalQueues; // one past its transmit queues
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "action.qid 4 is not a queue of the target"), _v.ClassifierWrite(r, WithMeter(10)).Outcome);
    }

    [Fact]
    public void ClassifierWrite_ToAnOpticalPortTheDpuLacks_IsNotFoundAndSaysHowManyItHas()
    {
        var r = new ClassifierWriteRequest { KeyIndex = 7, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = DpuAgent.OpticalBase + 2, Qid = -1 } };
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "optical port 2 does not exist (the DPU has 2)"), _v.ClassifierWrite(r, DpuState.Empty(Config)).Outcome);
        r.Action.Vid = 0x30000; // beyond every class
        Assert.Equal(DpuStatus.InvalidArgument, _v.ClassifierWrite(r, DpuState.Empty(Config)).Outcome.Status);
    }

    [Fact]
    public void ProcSwitch_PortBeyondMachine_IsNotFound()
    {
        DpuChange c = _v.ProcSwitch(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 2 }, DpuState.Empty(Config));
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "the DPU has 2 SoC ports"), c.Outcome);
    }
}
