using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The Meter service's rules on their own: a request against a state, no agent, no gRPC, no switch.</summary>
public sealed class MeterValidatorTests
{
    [Fact]
    public void MeterAdd_TypeTwo_IsInvalidArgument()
    {
        var v = new MeterValidator(new DpuConfig());
        DpuChange c = v.MeterAdd(new MeterAddRequest { Id = 10, Rate = 1000, Type = 2 }, DpuState.Empty(new DpuConfig()));
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "type 2 is not 0 (bytes) or 1 (packets)"), c.Outcome);
    }

    [Fact]
    public void MeterAdd_TableFull_IsNoResource()
    {
        var config = new DpuConfig { MeterTable = 1 };
        var v = new MeterValidator(config);
        DpuState s = v.MeterAdd(new MeterAddRequest { Id = 10, Rate = 1000 }, DpuState.Empty(config)).Next!;
        DpuChange c = v.MeterAdd(new MeterAddRequest { Id = 11, Rate = 1000 }, s);
        Assert.Equal(new DpuOutcome(DpuStatus.NoResource, "the meter table holds 1"), c.Outcome);
    }

    [Fact]
    public void MeterAdd_SameIdOtherRate_IsAlreadyExists()
    {
        var v = new MeterValidator(new DpuConfig());
        DpuState s = v.MeterAdd(new MeterAddRequest { Id = 10, Rate = 1000 }, DpuState.Empty(new DpuConfig())).Next!;
        DpuChange c = v.MeterAdd(new MeterAddRequest { Id = 10, Rate = 2000 }, s);
        Assert.Equal(new DpuOutcome(DpuStatus.AlreadyExists, "meter 10 exists with rate 1000 type 0"), c.Outcome);
    }

    [Fact]
    public void MeterUpdate_NewRate_WritesTheRowOnly()
    {
        var v = new MeterValidator(new DpuConfig());
        DpuState s = v.MeterAdd(new MeterAddRequest { Id = 10, Rate = 1000 }, DpuState.Empty(new DpuConfig())).Next!;
        DpuChange c = MeterValidator.MeterUpdate(new MeterUpdateRequest { Id = 10, Rate = 2000 }, s);
        Assert.Equal(2000u, c.Next!.Meters[10].Rate);
        Assert.Equal(("meters", 10L), (c.Rows!.Single().Table, c.Rows!.Single().Key));
        Assert.Null(c.Step); // meters live in the switch, which follows the published state
    }
}
