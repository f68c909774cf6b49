using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The PortStats service's rule on its own: which vids name a port.</summary>
public sealed class PortStatsValidatorTests
{
    private static readonly DpuConfig Config = new() { SocPorts = 3 };
    private readonly PortStatsValidator _v = new(Config);

    [Fact]
    public void GetPortStats_WithoutVid_IsInvalidArgument() =>
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "vid must be present"), _v.GetPortStats(new GetPortStatsRequest(), DpuState.Empty(Config)));

    [Fact]
    public void GetPortStats_MissingVport_IsNotFound() =>
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "vport 5 does not exist"), _v.GetPortStats(new GetPortStatsRequest { Vid = 5 }, DpuState.Empty(Config)));

    [Theory]
    [InlineData(0x10002u, true)]
    [InlineData(0x10003u, false)]
    public void GetPortStats_SocPort_IsOkWithinTheMachine(uint vid, bool ok)
    {
        DpuOutcome o = _v.GetPortStats(new GetPortStatsRequest { Vid = vid }, DpuState.Empty(Config));
        Assert.Equal(ok ? DpuOutcome.Ok : new DpuOutcome(DpuStatus.NotFound, $"vid 0x{vid:x} is not a host vport or a SoC port"), o);
    }
}
