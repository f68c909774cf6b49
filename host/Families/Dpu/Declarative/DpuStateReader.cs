using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>What is: the agent's current state, read over its services once at the start of a plan (the desired state
/// is the file's, read by <see cref="DpuStateFile"/>).</summary>
internal static class DpuStateReader
{
    public static async Task<CurrentState> ReadAsync(DpuClient c)
    {
        var ports = (await c.Nic.QueryPortAsync(new QueryPortRequest())).Ports;
        var vdisks = (await c.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = false })).Cfgs;
        var meters = (await c.Meter.MeterListAsync(new MeterListRequest())).Meters;
        var rules = (await c.Traffic.ClassifierListAsync(new ClassifierListRequest())).Rules;
        var switches = (await c.Traffic.ProcSwitchListAsync(new ProcSwitchListRequest())).Switches;
        EthMacBondGetResponse bond = await c.Optical.EthMacBondGetAsync(new EthMacBondGetRequest());
        var mtus = new List<uint>();
        for (uint p = 0; p < bond.OpticalPortCnt; p++) mtus.Add((await c.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = p })).Mtu);
        return new CurrentState([.. ports], [.. vdisks], [.. meters], [.. rules], [.. switches], bond, mtus);
    }
}
