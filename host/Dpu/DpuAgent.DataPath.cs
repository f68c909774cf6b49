using System.Globalization;
using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;

namespace NicScript.Host.Dpu;

/// <summary>The agent's side of the data path: the committed state programmed into the DPU's switch, and the counters
/// the switch keeps read back into replies.</summary>
public sealed partial class DpuAgent
{
    private readonly ConditionalWeakTable<ClassifierReadResponse, DpuRule> _compiled = new();

    /// <summary>Swaps the switch's tables for the ones of <paramref name="s"/>. A stored rule object that did not change
    /// keeps its compiled rule, and so its hit counters.</summary>
    private void ProgramSwitch(DpuState s)
    {
        var redirect = Enumerable.Repeat(-1, Config.SocPorts).ToArray();
        foreach (var (src, dest) in s.Switches) redirect[src] = (int)dest;
        _device.Switch.Program(
            s.Rules.Values.Select(r => _compiled.GetValue(r, Compile)),
            s.Meters.Values.Select(m => (m.Id, m.Rate, m.Type == 1)),
            redirect, s.OpticalMtu.ToArray(), BondOf(s.Bond));
    }

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
        return new DpuBond(true, Array.IndexOf(BondModes, o["mode"]), o["members"].Split(',').Select(int.Parse).ToArray(), Int("miimon"), Int("updelay"),
            Int("downdelay"), Array.IndexOf(HashPolicies, o["xmit_hash_policy"]), o.TryGetValue("primary", out string? p) ? int.Parse(p, CultureInfo.InvariantCulture) : -1,
            Array.IndexOf(Reselect, o["primary_reselect"]), Int("all_slaves_active") == 1);
    }

    /// <summary>A stored meter with the switch's counters.</summary>
    private MeterGetResponse WithCounters(MeterGetResponse m)
    {
        var reply = new MeterGetResponse(m) { Status = 0 };
        if (_device.Switch.Meter(m.Id) is { } live)
        {
            reply.PassPackets = (ulong)live.PassPackets;
            reply.PassBytes = (ulong)live.PassBytes;
            reply.DropPackets = (ulong)live.DropPackets;
            reply.DropBytes = (ulong)live.DropBytes;
        }
        return reply;
    }

    /// <summary>A stored rule's hits, from its compiled rule.</summary>
    private (ulong Packets, ulong Bytes) Hits(ClassifierReadResponse r) =>
        _compiled.TryGetValue(r, out DpuRule? live) ? ((ulong)live.HitPackets, (ulong)live.HitBytes) : (0, 0);
}
