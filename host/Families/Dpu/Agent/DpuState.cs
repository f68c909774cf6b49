using System.Collections.Immutable;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>Everything the agent knows, as one immutable value: reads take the current one and never see half a change.</summary>
public sealed record DpuState(
    ImmutableSortedDictionary<uint, PortCfg> Ports,
    ImmutableSortedDictionary<uint, NicScript.Dpu.V1.VdiskGetPvfCfg> Vdisks,
    ImmutableSortedDictionary<uint, MeterGetResponse> Meters,
    ImmutableSortedDictionary<int, ClassifierReadResponse> Rules,
    ImmutableSortedDictionary<uint, uint> Switches,
    ImmutableArray<uint> OpticalMtu,
    EthMacBondGetResponse Bond)
{
    public static DpuState Empty(DpuConfig c) => new(
        ImmutableSortedDictionary<uint, PortCfg>.Empty, ImmutableSortedDictionary<uint, NicScript.Dpu.V1.VdiskGetPvfCfg>.Empty,
        ImmutableSortedDictionary<uint, MeterGetResponse>.Empty, ImmutableSortedDictionary<int, ClassifierReadResponse>.Empty,
        ImmutableSortedDictionary<uint, uint>.Empty, Enumerable.Repeat(c.OpticalMtu, c.OpticalPorts).ToImmutableArray(),
        new EthMacBondGetResponse { Status = 0, Enable = false, OpticalPortCnt = (uint)c.OpticalPorts, ActivePortId = 0 });
}
