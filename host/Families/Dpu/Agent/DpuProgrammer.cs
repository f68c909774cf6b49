using System.Globalization;
using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>The accepted state turned into driver calls: elastic NIC and disk functions added, changed and removed on
/// the emulated DPU, and the state's rules, meters, SoC redirects, MTUs and bond programmed into its switch.</summary>
internal sealed class DpuProgrammer(DpuDevice device, string vdiskDirectory)
{
    private readonly DpuDevice _device = device;
    private readonly ConditionalWeakTable<ClassifierReadResponse, DpuRule> _compiled = new();

    private DpuConfig Config => _device.Config;

    /// <summary>The backing file of disk <paramref name="pvfId"/>: beside the database, so one directory is the whole state.</summary>
    public string VdiskBackingFile(uint pvfId) => Path.Combine(vdiskDirectory, $"{pvfId}.img");

    /// <summary>Start and recovery: the recovered state's functions on the bus and its tables in the switch. Disks come
    /// back over their files (data a FLUSH completed is there); a file with no row is a destroy the kill cut short.</summary>
    public void Restore(DpuState s)
    {
        foreach (var (vport, p) in s.Ports)
            if (!_device.HasElasticNic(vport)) _device.AddElasticNic(vport, p.Mac.ToByteArray(), p.Mtu, p.MaxQpair, p.FeatureList);
        string vdiskDir = Path.GetDirectoryName(VdiskBackingFile(0))!;
        if (Directory.Exists(vdiskDir))
            foreach (string file in Directory.GetFiles(vdiskDir, "*.img"))
                if (!uint.TryParse(Path.GetFileNameWithoutExtension(file), out uint id) || !s.Vdisks.ContainsKey(id)) File.Delete(file);
        foreach (NicScript.Dpu.V1.VdiskGetPvfCfg d in s.Vdisks.Values)
        {
            try
            {
                if (_device.Vdisk(d.Pvfid) is null) AddVdisk(d, create: false);
            }
            catch (IOException e)
            {
                throw new UserErrorException($"vdisk {d.Pvfid}: {VdiskBackingFile(d.Pvfid)}: {e.Message}");
            }
        }
        ProgramSwitch(s);
    }

    /// <summary>Carries out one committed change's step; the device's refusal is an <see cref="InvalidOperationException"/>,
    /// <see cref="ArgumentException"/> or <see cref="IOException"/>, which the writer undoes.</summary>
    public void Apply(DpuDeviceStep step)
    {
        switch (step)
        {
            case DpuDeviceStep.AddElasticNic(uint v, PortCfg port):
                if (!_device.AddElasticNic(v, port.Mac.ToByteArray(), port.Mtu, port.MaxQpair, port.FeatureList)) throw new InvalidOperationException($"PCI address {DpuDevice.ElasticNicAddress(v)} is taken");
                break;
            case DpuDeviceStep.RemoveElasticNic(uint v):
                _device.RemoveElasticNic(v);
                break;
            case DpuDeviceStep.ReconfigureElasticNic(uint v, PortCfg next):
                _device.ReconfigureElasticNic(v, next.Mac.ToByteArray(), next.Mtu, next.MaxQpair, next.FeatureList);
                break;
            case DpuDeviceStep.AddVdisk(NicScript.Dpu.V1.VdiskGetPvfCfg disk):
                AddVdisk(disk, create: true);
                break;
            case DpuDeviceStep.RemoveVdisk(uint id):
                _device.RemoveVdisk(id, deleteData: true);
                break;
            case DpuDeviceStep.ResizeVdisk(uint id, ulong sectors):
                DiskOf(id).Resize(sectors);
                break;
            case DpuDeviceStep.PauseVdisk(uint id, bool pause):
                DiskOf(id).Pause(pause);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step, "not a DPU device step");
        }
    }

    /// <summary>The agent stops: the disks' functions go, their files close, their data stays.</summary>
    public void CloseVdisks(DpuState s)
    {
        foreach (uint id in s.Vdisks.Keys) _device.RemoveVdisk(id, deleteData: false);
    }

    private void AddVdisk(NicScript.Dpu.V1.VdiskGetPvfCfg d, bool create)
    {
        if (!_device.AddVdisk(d.Pvfid, d.Name, (int)d.MaxQueue, (int)d.QueueDepth, (int)d.MsixNum, d.SectorNum, VdiskBackingFile(d.Pvfid), create,
                paused: d.TransStatus == (uint)VdiskTransStatus.Paused))
            throw new InvalidOperationException($"PCI address {DpuDevice.VdiskAddress(d.Pvfid)} is taken");
    }

    private IVdisk DiskOf(uint pvfId) => _device.Vdisk(pvfId) ?? throw new InvalidOperationException($"vdisk {pvfId} has no function on the bus");

    /// <summary>Swaps the switch's tables for the ones of <paramref name="s"/>. A stored rule object that did not change
    /// keeps its compiled rule, and so its hit counters.</summary>
    public void ProgramSwitch(DpuState s)
    {
        var redirect = Enumerable.Repeat(-1, Config.SocPorts).ToArray();
        foreach (var (src, dest) in s.Switches) redirect[src] = (int)dest;
        _device.Switch.Program(
            s.Rules.Values.Select(r => _compiled.GetValue(r, Compile)),
            s.Meters.Values.Select(m => (m.Id, m.Rate, m.Type == 1)),
            redirect, s.OpticalMtu.ToArray(), BondOf(s.Bond));
    }

    /// <summary>The compiled rule the switch runs for a stored rule (its hit counters), or null when none was compiled.</summary>
    public DpuRule? Compiled(ClassifierReadResponse r) => _compiled.TryGetValue(r, out DpuRule? live) ? live : null;

    private static DpuRule Compile(ClassifierReadResponse r)
    {
        MaskRuleKey k = r.MaskRuleKey;
        static ulong Mac(Google.Protobuf.ByteString b) => NicScript.Driver.Wire.MacAddress.ToUInt64(b.Span);
        var key = new DpuKey(Mac(k.Dmac), (ulong)k.DmacMask, Mac(k.Smac), (ulong)k.SmacMask, k.IpType switch { "ipv4" => 4, "ipv6" => 6, _ => 0 },
            [.. k.Dip], [.. k.DipMask], [.. k.Sip], [.. k.SipMask], k.Ipprotocol, k.IpprotocolMask, k.Dl4Port, k.Dl4PortMask, k.Sl4Port, k.Sl4PortMask,
            k.Vlan, k.VlanMask, k.Vid, k.VidMask);
        return new DpuRule(r.MaskRuleKey.KeyIndex, key, r.Action.Vid, r.Action.Qid, r.Action.HasMeterId ? r.Action.MeterId : null);
    }

    private static DpuBond BondOf(EthMacBondGetResponse b)
    {
        if (!b.Enable) return DpuBond.Off;
        var o = b.BondOpts.ToDictionary(x => x.OptName, x => x.Value, StringComparer.Ordinal);
        int Int(string name) => int.Parse(o[name], CultureInfo.InvariantCulture);
        return new DpuBond(true, Array.IndexOf(OpticalPortValidator.BondModes, o["mode"]), o["members"].Split(',').Select(int.Parse).ToArray(), Int("miimon"), Int("updelay"),
            Int("downdelay"), Array.IndexOf(OpticalPortValidator.HashPolicies, o["xmit_hash_policy"]), o.TryGetValue("primary", out string? p) ? int.Parse(p, CultureInfo.InvariantCulture) : -1,
            Array.IndexOf(OpticalPortValidator.Reselect, o["primary_reselect"]), Int("all_slaves_active") == 1);
    }
}
