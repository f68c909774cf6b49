using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the PortStats service's request must satisfy (reference/dpu.md §6.5): a vid naming a host vport that
/// exists or a SoC port of the machine.</summary>
internal sealed class PortStatsValidator(DpuConfig config)
{
    private const int SocBase = DpuAgent.SocBase;

    private DpuConfig Config => config;

    public DpuOutcome GetPortStats(GetPortStatsRequest r, DpuState s) =>
        !r.HasVid ? new(DpuStatus.InvalidArgument, "vid must be present")
        : r.Vid <= 0xFFFF ? (s.Ports.ContainsKey(r.Vid) ? DpuOutcome.Ok : new(DpuStatus.NotFound, $"vport {r.Vid} does not exist"))
        : r.Vid >= SocBase && r.Vid < SocBase + Config.SocPorts ? DpuOutcome.Ok
        : new(DpuStatus.NotFound, $"vid 0x{r.Vid:x} is not a host vport or a SoC port");
}
