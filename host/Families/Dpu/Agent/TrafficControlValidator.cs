using System.Collections.Immutable;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Families.Dpu.Agent.DpuChange;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the TrafficControl service's requests must satisfy (reference/dpu.md §6.4, keys §5.6), checked against
/// the current state: a refusal with its status and detail, nothing to do, or the change with its rows (rules and SoC
/// redirects live in the switch only).</summary>
internal sealed class TrafficControlValidator(DpuConfig config)
{
    private const int SocBase = DpuAgent.SocBase, OpticalBase = DpuAgent.OpticalBase;

    private DpuConfig Config => config;

    /// <summary>Null when the key is canonical; else why not.</summary>
    internal static string? KeyProblem(MaskRuleKey k, int keyIndex)
    {
        if (k.HasKeyIndex && k.KeyIndex != 0 && k.KeyIndex != keyIndex) return $"mask_rule_key.key_index {k.KeyIndex} differs from key_index {keyIndex}";
        foreach (var (name, mac, mask) in new[] { ("dmac", k.Dmac, k.DmacMask), ("smac", k.Smac, k.SmacMask) })
        {
            if (mac.Length is not (0 or 6)) return $"{name} is {mac.Length} bytes (empty or 6)";
            if (mask is < 0 or > 0xFFFFFFFFFFFF) return $"{name}_mask 0x{mask:x} is not 0..0xFFFFFFFFFFFF";
            if (mac.Length == 0 && mask != 0) return $"{name}_mask without {name}";
            long value = (long)NicScript.Driver.Wire.MacAddress.ToUInt64(mac.Span);
            if ((value & ~mask) != 0) return $"{name} has bits outside {name}_mask";
        }
        if (k.IpType is not ("" or "ipv4" or "ipv6")) return $"ip_type \"{k.IpType}\" is not \"\", \"ipv4\" or \"ipv6\"";
        int words = k.IpType == "ipv4" ? 1 : 4;
        foreach (var (name, value, mask) in new[] { ("dip", k.Dip, k.DipMask), ("sip", k.Sip, k.SipMask) })
        {
            if (value.Count == 0 && mask.Count == 0) continue;
            if (k.IpType == "") return $"{name} given with ip_type \"\"";
            if (value.Count != words || mask.Count != words) return $"{name} and {name}_mask must have {words} word(s) for {k.IpType}";
            for (int i = 0; i < words; i++)
                if ((value[i] & ~mask[i]) != 0) return $"{name} has bits outside {name}_mask";
        }
        if (k.Ipprotocol is < 0 or > 255 || k.IpprotocolMask is < 0 or > 0xFF) return "ipprotocol/mask out of 0..255";
        if (k.IpType == "" && (k.IpprotocolMask != 0 || k.Dl4PortMask != 0 || k.Sl4PortMask != 0)) return "IP fields given with ip_type \"\"";
        foreach (var (name, value, mask) in new[] { ("dl4port", k.Dl4Port, k.Dl4PortMask), ("sl4port", k.Sl4Port, k.Sl4PortMask) })
        {
            if (value is < 0 or > 65535 || mask is < 0 or > 0xFFFF) return $"{name}/mask out of 0..65535";
            if ((value & ~mask) != 0) return $"{name} has bits outside its mask";
            if (mask != 0 && (k.IpprotocolMask != 0xFF || k.Ipprotocol is not (6 or 17 or 132))) return $"{name}_mask needs ipprotocol 6, 17 or 132 with mask 0xFF";
        }
        if (k.Vlan is < 0 or > 4095 || k.VlanMask is < 0 or > 0xFFF || (k.Vlan & ~k.VlanMask) != 0) return $"vlan {k.Vlan}/mask 0x{k.VlanMask:x} is not canonical";
        if (k.Vid < 0 || k.VidMask < 0 || (k.Vid & ~k.VidMask) != 0) return $"vid 0x{k.Vid:x}/mask 0x{k.VidMask:x} is not canonical";
        if ((k.Ipprotocol & ~k.IpprotocolMask) != 0) return "ipprotocol has bits outside its mask";
        return null;
    }

    /// <summary>Queues a rule may name at its target: an optical port's transmit queues (as the switch keeps them, at most
    /// 16), a SoC port's, or a vport's <c>max_qpair</c>.</summary>
    private int TargetQueues(DpuState s, int vid) =>
        vid >= OpticalBase ? Math.Min(Config.OpticalQueues, 16)
        : vid >= SocBase ? Config.SocQueues
        : s.Ports.TryGetValue((uint)vid, out PortCfg? p) ? (int)p.MaxQpair : 0;

    public DpuChange ClassifierWrite(ClassifierWriteRequest r, DpuState s)
    {
        if (!r.HasKeyIndex || r.KeyIndex < 0) return Refuse(DpuStatus.InvalidArgument, "key_index must be present and >= 0");
        if (r.MaskRuleKey is null || r.Action is null) return Refuse(DpuStatus.InvalidArgument, "mask_rule_key and action must be present");
        if (!r.Action.HasQid || !r.Action.HasVid) return Refuse(DpuStatus.InvalidArgument, "action.qid and action.vid must be present");
        if (KeyProblem(r.MaskRuleKey, r.KeyIndex) is { } why) return Refuse(DpuStatus.InvalidArgument, why);
        int vid = r.Action.Vid, qid = r.Action.Qid;
        bool isSoc = vid >= SocBase && vid < OpticalBase, isOptical = vid >= OpticalBase && vid < OpticalBase + 0x10000;
        if (vid != -1 && !(vid >= 0 && vid <= 0xFFFF) && !isSoc && !isOptical)
            return Refuse(DpuStatus.InvalidArgument, $"action.vid 0x{vid:x} is not -1, a vport, a SoC port (0x10000 + pfid) or an optical port (0x20000 + port_id)");
        if (vid >= 0 && vid <= 0xFFFF && !s.Ports.ContainsKey((uint)vid)) return Refuse(DpuStatus.NotFound, $"vport {vid} does not exist");
        if (isSoc && vid - SocBase >= Config.SocPorts) return Refuse(DpuStatus.NotFound, $"SoC port {vid - SocBase} does not exist");
        if (isOptical && vid - OpticalBase >= Config.OpticalPorts)
            return Refuse(DpuStatus.NotFound, $"optical port {vid - OpticalBase} does not exist (the DPU has {Config.OpticalPorts})");
        if (qid < -1 || (vid == -1 ? qid > 0 : qid >= TargetQueues(s, vid))) return Refuse(DpuStatus.InvalidArgument, $"action.qid {qid} is not a queue of the target");
        if (r.Action.HasMeterId && !s.Meters.ContainsKey(r.Action.MeterId)) return Refuse(DpuStatus.NotFound, $"meter {r.Action.MeterId} does not exist");
        s.Rules.TryGetValue(r.KeyIndex, out ClassifierReadResponse? old);
        if (old is null && s.Rules.Count >= Config.ClassifierTable) return Refuse(DpuStatus.NoResource, $"the classifier table holds {Config.ClassifierTable}");
        var key = new MaskRuleKey(r.MaskRuleKey) { KeyIndex = r.KeyIndex };
        var action = new RuleAction(r.Action);
        if (old is not null && old.MaskRuleKey.Equals(key) && old.Action.Equals(action)) return Nothing(); // identical: counters kept
        var rule = new ClassifierReadResponse { Status = 0, Action = action, MaskRuleKey = key, HitPackets = 0, HitBytes = 0 };
        ImmutableSortedDictionary<uint, MeterGetResponse> meters = s.Meters;
        if (old?.Action.HasMeterId == true) meters = meters.SetItem(old.Action.MeterId, new MeterGetResponse(meters[old.Action.MeterId]) { RefCnt = meters[old.Action.MeterId].RefCnt - 1 });
        if (action.HasMeterId) meters = meters.SetItem(action.MeterId, new MeterGetResponse(meters[action.MeterId]) { RefCnt = meters[action.MeterId].RefCnt + 1 });
        return Done(s with { Rules = s.Rules.SetItem(r.KeyIndex, rule), Meters = meters }, [("rules", r.KeyIndex, Bytes(rule))]);
    }

    public static DpuChange ClassifierDelete(ClassifierDeleteRequest r, DpuState s)
    {
        if (!r.HasKeyIndex) return Refuse(DpuStatus.InvalidArgument, "key_index must be present");
        if (!s.Rules.TryGetValue(r.KeyIndex, out ClassifierReadResponse? old)) return Refuse(DpuStatus.NotFound, $"rule {r.KeyIndex} does not exist");
        ImmutableSortedDictionary<uint, MeterGetResponse> meters = s.Meters;
        if (old.Action.HasMeterId) meters = meters.SetItem(old.Action.MeterId, new MeterGetResponse(meters[old.Action.MeterId]) { RefCnt = meters[old.Action.MeterId].RefCnt - 1 });
        return Done(s with { Rules = s.Rules.Remove(r.KeyIndex), Meters = meters }, [("rules", r.KeyIndex, null)]);
    }

    /// <summary>ClassifierRead: the key_index must be given and hold a rule.</summary>
    public static DpuOutcome ClassifierRead(ClassifierReadRequest r, DpuState s) =>
        !r.HasKeyIndex ? new(DpuStatus.InvalidArgument, "key_index must be present")
        : !s.Rules.ContainsKey(r.KeyIndex) ? new(DpuStatus.NotFound, $"rule {r.KeyIndex} does not exist")
        : DpuOutcome.Ok;

    public DpuChange ProcSwitch(ProcSwitchRequest r, DpuState s)
    {
        if (!r.HasSrcPfid || !r.HasDestPfid) return Refuse(DpuStatus.InvalidArgument, "src_pfid and dest_pfid must be present");
        if (r.SrcPfid >= Config.SocPorts || r.DestPfid >= Config.SocPorts) return Refuse(DpuStatus.NotFound, $"the DPU has {Config.SocPorts} SoC ports");
        bool clear = r.SrcPfid == r.DestPfid;
        if (clear ? !s.Switches.ContainsKey(r.SrcPfid) : s.Switches.TryGetValue(r.SrcPfid, out uint d) && d == r.DestPfid) return Nothing();
        return clear
            ? Done(s with { Switches = s.Switches.Remove(r.SrcPfid) }, [("proc_switches", r.SrcPfid, null)])
            : Done(s with { Switches = s.Switches.SetItem(r.SrcPfid, r.DestPfid) }, [("proc_switches", r.SrcPfid, BitConverter.GetBytes(r.DestPfid))]);
    }
}
