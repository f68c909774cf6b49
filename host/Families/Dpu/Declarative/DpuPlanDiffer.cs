using Google.Protobuf;
using NicScript.Dpu.V1;
using NicScript.Host.Manifests;
using static NicScript.Host.Families.Dpu.Declarative.DpuPlanRenderer;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>
/// What changes, for <c>nicscript plan</c> and <c>apply</c> (reference/dpu.md §9.2): desired against current, by key,
/// comparing only the fields the file writes, into changes whose steps run in the dependency order of §9.3.
/// </summary>
/// <remarks>Design: one differ per plan. Its sections run in a fixed order — meters, ports, vdisks, rules, switches,
/// optical — because a step's <see cref="PlanStep.Order"/> is the order it was made in, and the rules need to know which
/// ports and meters the sections before them remove. Every problem is gathered, then thrown once.</remarks>
internal sealed class DpuPlanDiffer(DesiredState d, CurrentState c, bool prune, bool allowReplace)
{
    public const uint Ok = 0, NotFound = 1;

    private readonly List<PlanChange> changes = [];
    private readonly List<ManifestProblem> problems = [];
    private int order;

    private readonly HashSet<uint> replacedVports = [];
    private readonly HashSet<uint> deletedVports = [];
    private readonly HashSet<uint> deletedMeters = [];

    /// <summary>The changes that bring <paramref name="c"/> to <paramref name="d"/>; a <see cref="ManifestException"/>
    /// with every problem (file:line:col) when the file cannot be planned.</summary>
    public static List<PlanChange> Diff(DesiredState d, CurrentState c, bool prune, bool allowReplace) => new DpuPlanDiffer(d, c, prune, allowReplace).Diff();

    private List<PlanChange> Diff()
    {
        Meters();
        Ports();
        Vdisks();
        Rules();
        Switches();
        Optical();
        if (problems.Count > 0) throw new ManifestException([.. problems]);
        return changes;
    }

    private void Error(YamlNode at, string message) => problems.Add(new ManifestProblem(new SourceSpan(d.File, at.Line, at.Column), message, ProblemSeverity.Error));

    private PlanStep Step(int phase, string rpc, string what, Func<DpuClient, ApplyContext, Task<(uint, string)>> run) => new(phase, order++, rpc, what, run);

    /// <summary>Meters: added or changed (phase 4), pruned (phase 3).</summary>
    private void Meters()
    {
        if (d.Meters is { } meters)
        {
            foreach (DesiredMeter m in meters)
            {
                MeterGetResponse? now = c.Meters.FirstOrDefault(x => x.Id == m.Id);
                string unit = m.Type == 1 ? "packets/s" : "kbit/s (bytes)";
                if (now is null)
                    changes.Add(new("+", "meter", $"{m.Id}", $"rate {m.Rate} {unit}", [Step(4, "MeterAdd", $"meter {m.Id}", async (cl, _) => Status(await DpuClient.Call(cl.Meter.MeterAddAsync(new MeterAddRequest { Id = m.Id, Rate = m.Rate, Type = m.Type }))))]));
                else if (now.Rate != m.Rate || now.Type != m.Type)
                    changes.Add(new("~", "meter", $"{m.Id}", $"rate {now.Rate} -> {m.Rate} {unit}", [Step(4, "MeterUpdate", $"meter {m.Id}", async (cl, _) => Status(await DpuClient.Call(cl.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = m.Id, Rate = m.Rate, Type = m.Type }))))]));
            }
            if (prune)
                foreach (MeterGetResponse now in c.Meters.Where(x => meters.All(m => m.Id != x.Id)))
                {
                    deletedMeters.Add(now.Id);
                    changes.Add(new("-", "meter", $"{now.Id}", "(prune)", [Step(3, "MeterDel", $"meter {now.Id}", async (cl, _) => Gone(await DpuClient.Call(cl.Meter.MeterDelAsync(new MeterDelRequest { Id = now.Id }))))]));
                }
        }
    }

    /// <summary>Ports by uuid: created or changed (phase 4, a max_qpair decrease 6), replaced for another vport, pruned (phase 3).</summary>
    private void Ports()
    {
        if (d.Ports is { } ports)
        {
            foreach (DesiredPort p in ports)
            {
                NewPortRequest want = p.Request;
                PortCfg? now = c.Ports.FirstOrDefault(x => x.Uuid == p.Uuid);
                PlanStep Create() => Step(4, "NewPort", $"port {p.Uuid}", async (cl, ctx) =>
                {
                    var (reply, detail) = await DpuClient.Call(cl.Nic.NewPortAsync(want));
                    if (reply.Status == Ok) ctx.Vports[p.Uuid] = reply.Vport;
                    return (reply.Status, detail);
                });
                if (now is null)
                {
                    changes.Add(new("+", "port", p.Uuid, Describe(want), [Create()]));
                    continue;
                }
                if (want.HasVport && want.Vport != now.Vport)
                {
                    replacedVports.Add(now.Vport);
                    changes.Add(new("-/+", "port", p.Uuid, $"vport {now.Vport} -> {want.Vport} (replace)",
                        [Step(3, "DelPort", $"port {p.Uuid} (vport {now.Vport})", async (cl, _) => Gone(await DpuClient.Call(cl.Nic.DelPortAsync(new DelPortRequest { Vport = now.Vport })))), Create()]));
                    continue;
                }
                var set = new SetPortCfgRequest { Vport = now.Vport };
                var diffs = new List<string>();
                if (want.HasMtu && want.Mtu != now.Mtu) { set.Mtu = want.Mtu; diffs.Add($"mtu {now.Mtu} -> {want.Mtu}"); }
                if (want.HasMac && !want.Mac.Equals(now.Mac)) { set.Mac = want.Mac; diffs.Add($"mac {Mac(now.Mac)} -> {Mac(want.Mac)}"); }
                if (want.HasMaxQpair && want.MaxQpair != now.MaxQpair) { set.MaxQpair = want.MaxQpair; diffs.Add($"max_qpair {now.MaxQpair} -> {want.MaxQpair}"); }
                if (want.HasQueueDepth && want.QueueDepth != now.QueueDepth) { set.QueueDepth = want.QueueDepth; diffs.Add($"queue_depth {now.QueueDepth} -> {want.QueueDepth}"); }
                if (want.HasFeatureList && want.FeatureList != now.FeatureList) { set.FeatureList = want.FeatureList; diffs.Add($"feature_list 0x{now.FeatureList:x} -> 0x{want.FeatureList:x}"); }
                if (diffs.Count == 0) continue;
                int phase = set.HasMaxQpair && set.MaxQpair < now.MaxQpair ? 6 : 4; // a decrease waits until rules no longer use the queues
                changes.Add(new("~", "port", p.Uuid, string.Join(", ", diffs), [Step(phase, "SetPortCfg", $"port {p.Uuid}", async (cl, _) => Status(await DpuClient.Call(cl.Nic.SetPortCfgAsync(set))))]));
            }
            if (prune)
                foreach (PortCfg now in c.Ports.Where(x => ports.All(p => p.Uuid != x.Uuid)))
                {
                    deletedVports.Add(now.Vport);
                    changes.Add(new("-", "port", now.Uuid, $"vport {now.Vport} (prune)", [Step(3, "DelPort", $"port {now.Uuid}", async (cl, _) => Gone(await DpuClient.Call(cl.Nic.DelPortAsync(new DelPortRequest { Vport = now.Vport }))))]));
                }
        }
    }

    /// <summary>Vdisks by name: created, grown, paused or resumed (phase 4), replaced with --allow-replace, pruned (phase 3); a shrink is a problem.</summary>
    private void Vdisks()
    {
        if (d.Vdisks is { } vdisks)
        {
            foreach (DesiredVdisk v in vdisks)
            {
                VdiskGetPvfCfg? now = c.Vdisks.FirstOrDefault(x => x.Name == v.Name);
                List<PlanStep> Create(VdiskCreateRequest req)
                {
                    var steps = new List<PlanStep>();
                    var pvf = new uint[1];
                    steps.Add(Step(4, "VdiskCreate", $"vdisk {v.Name}", async (cl, _) =>
                    {
                        var (reply, detail) = await DpuClient.Call(cl.Vdisk.VdiskCreateAsync(req));
                        pvf[0] = reply.PvfId;
                        return (reply.Status, detail);
                    }));
                    if (v.Sectors is > 0 and var s)
                        steps.Add(Step(4, "VdiskUpdate", $"vdisk {v.Name} size {Size(s)}", async (cl, _) => Status(await DpuClient.Call(cl.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = pvf[0], NumberSectors = s })))));
                    if (v.Paused == true)
                        steps.Add(Step(4, "VdiskPause", $"vdisk {v.Name} pause", async (cl, _) => Status(await DpuClient.Call(cl.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = pvf[0], Pause = true })))));
                    return steps;
                }
                VdiskCreateRequest want = v.Create;
                if (now is null)
                {
                    changes.Add(new("+", "vdisk", v.Name, $"{(want.HasPvfId ? $"pvf_id {want.PvfId}, " : "")}size {Size(v.Sectors ?? 0)}{(v.Paused == true ? ", paused" : "")}", Create(want)));
                    continue;
                }
                var replace = new List<(string Field, string Text)>();
                if (want.HasPvfId && want.PvfId != now.Pvfid) replace.Add(("pvf_id", $"pvf_id {now.Pvfid} -> {want.PvfId}"));
                if (want.HasMaxQueue && want.MaxQueue != now.MaxQueue) replace.Add(("max_queue", $"max_queue {now.MaxQueue} -> {want.MaxQueue}"));
                if (want.HasQueueDepth && want.QueueDepth != now.QueueDepth) replace.Add(("queue_depth", $"queue_depth {now.QueueDepth} -> {want.QueueDepth}"));
                if (want.HasMsix && want.Msix != now.MsixNum) replace.Add(("msix", $"msix {now.MsixNum} -> {want.Msix}"));
                if (replace.Count > 0)
                {
                    if (!allowReplace)
                    {
                        Error(v.Fields[replace[0].Field], $"vdisk {v.Name}: changing {replace[0].Field} ({replace[0].Text}) replaces the disk and loses its data; run with --allow-replace");
                        continue;
                    }
                    var steps = new List<PlanStep> { Step(3, "VdiskDestroy", $"vdisk {v.Name} (pvf_id {now.Pvfid})", async (cl, _) => Gone(await DpuClient.Call(cl.Vdisk.VdiskDestroyAsync(new VdiskDestroyRequest { PvfId = now.Pvfid })))) };
                    steps.AddRange(Create(want));
                    changes.Add(new("-/+", "vdisk", v.Name, $"{string.Join(", ", replace.Select(x => x.Text))} (replace: data is lost)", steps));
                    continue;
                }
                var diffs = new List<string>();
                var change = new List<PlanStep>();
                if (v.Sectors is { } sectors && sectors != now.SectorNum)
                {
                    if (sectors < now.SectorNum)
                    {
                        Error(v.Fields.GetValueOrDefault("size") ?? v.Fields.GetValueOrDefault("sectors") ?? v.At,
                            $"vdisk {v.Name}: size {Size(sectors)} is smaller than the disk's {Size(now.SectorNum)}; a vdisk only grows");
                        continue;
                    }
                    diffs.Add($"size {Size(now.SectorNum)} -> {Size(sectors)}");
                    change.Add(Step(4, "VdiskUpdate", $"vdisk {v.Name}", async (cl, _) => Status(await DpuClient.Call(cl.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = now.Pvfid, NumberSectors = sectors })))));
                }
                bool pausedNow = now.TransStatus == (uint)VdiskTransStatus.Paused;
                if (v.Paused is { } paused && paused != pausedNow)
                {
                    diffs.Add(paused ? "pause" : "resume");
                    change.Add(Step(4, "VdiskPause", $"vdisk {v.Name}", async (cl, _) => Status(await DpuClient.Call(cl.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = now.Pvfid, Pause = paused })))));
                }
                if (change.Count > 0) changes.Add(new("~", "vdisk", v.Name, string.Join(", ", diffs), change));
            }
            if (prune)
                foreach (VdiskGetPvfCfg now in c.Vdisks.Where(x => vdisks.All(v => v.Name != x.Name)))
                    changes.Add(new("-", "vdisk", now.Name, $"pvf_id {now.Pvfid} (prune: data is lost)", [Step(3, "VdiskDestroy", $"vdisk {now.Name}", async (cl, _) => Gone(await DpuClient.Call(cl.Vdisk.VdiskDestroyAsync(new VdiskDestroyRequest { PvfId = now.Pvfid }))))]));
        }
    }

    /// <summary>Rules by key_index: written (phase 5), deleted first (phase 1) when their port or meter goes.</summary>
    private void Rules()
    {
        bool Doomed(ClassifierReadResponse r) =>
            r.Action.Vid >= 0 && r.Action.Vid <= 0xFFFF && (replacedVports.Contains((uint)r.Action.Vid) || deletedVports.Contains((uint)r.Action.Vid))
            || r.Action.HasMeterId && r.Action.MeterId != 0 && deletedMeters.Contains(r.Action.MeterId);
        if (d.Rules is { } rules)
        {
            var uuidOf = c.Ports.ToDictionary(p => p.Vport, p => p.Uuid);
            foreach (DesiredRule rule in rules)
            {
                ClassifierReadResponse? now = c.Rules.FirstOrDefault(x => x.MaskRuleKey.KeyIndex == rule.KeyIndex);
                if (rule.PortUuid is { } uuid && c.Ports.All(p => p.Uuid != uuid) && d.Ports?.Any(p => p.Uuid == uuid) != true)
                {
                    Error(rule.At, $"rule {rule.KeyIndex}: port {uuid} is neither in the file nor on the agent");
                    continue;
                }
                if (rule.Action.Vid >= DpuAgent.OpticalBase && rule.Action.Vid - DpuAgent.OpticalBase >= c.OpticalMtu.Count)
                {
                    Error(rule.TargetAt ?? rule.At, $"rule {rule.KeyIndex}: optical port {rule.Action.Vid - DpuAgent.OpticalBase} does not exist (the DPU has {c.OpticalMtu.Count})");
                    continue;
                }
                MaskRuleKey key = Canonical(rule.Key);
                string target = rule.PortUuid ?? Target(rule.Action.Vid);
                PlanStep Write() => Step(5, "ClassifierWrite", $"rule {rule.KeyIndex}", async (cl, ctx) =>
                {
                    var action = new RuleAction(rule.Action);
                    if (rule.PortUuid is { } u)
                    {
                        if (!ctx.Vports.TryGetValue(u, out uint vport)) return (NotFound, $"port {u} does not exist on the agent");
                        action.Vid = (int)vport;
                    }
                    return Status(await DpuClient.Call(cl.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = rule.KeyIndex, MaskRuleKey = key, Action = action })));
                });
                string text = $"-> {target}{(rule.Action.Qid >= 0 ? $" queue {rule.Action.Qid}" : "")}{(rule.Action.HasMeterId ? $" meter {rule.Action.MeterId}" : "")}";
                if (now is null)
                {
                    changes.Add(new("+", "rule", $"{rule.KeyIndex}", text, [Write()]));
                    continue;
                }
                bool portChanges = rule.PortUuid is { } pu && (c.Ports.FirstOrDefault(p => p.Uuid == pu) is not { } cur || replacedVports.Contains(cur.Vport));
                int vidNow = rule.PortUuid is { } pu2 && c.Ports.FirstOrDefault(p => p.Uuid == pu2) is { } cp ? (int)cp.Vport : rule.Action.Vid;
                var wantAction = new RuleAction { Vid = vidNow, Qid = rule.Action.Qid, MeterId = rule.Action.HasMeterId ? rule.Action.MeterId : 0 };
                bool same = !portChanges && now.MaskRuleKey.Equals(key) && now.Action.Vid == wantAction.Vid && now.Action.Qid == wantAction.Qid && now.Action.MeterId == wantAction.MeterId;
                if (same && !Doomed(now)) continue;
                var steps = new List<PlanStep>();
                if (Doomed(now)) steps.Add(Step(1, "ClassifierDelete", $"rule {rule.KeyIndex} (its target goes)", async (cl, _) => Gone(await DpuClient.Call(cl.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = rule.KeyIndex })))));
                steps.Add(Write());
                changes.Add(new("~", "rule", $"{rule.KeyIndex}", text, steps));
            }
            if (prune)
                foreach (ClassifierReadResponse now in c.Rules.Where(x => rules.All(r => r.KeyIndex != x.MaskRuleKey.KeyIndex)))
                {
                    int key = now.MaskRuleKey.KeyIndex;
                    changes.Add(new("-", "rule", $"{key}", "(prune)", [Step(1, "ClassifierDelete", $"rule {key}", async (cl, _) => Gone(await DpuClient.Call(cl.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = key }))))]));
                }
            foreach (ClassifierReadResponse now in c.Rules.Where(x => rules.All(r => r.KeyIndex != x.MaskRuleKey.KeyIndex) && Doomed(x) && !prune))
                Error(d.Rules.Count > 0 ? d.Rules[0].At : new YamlScalar("", true, 1, 1), $"rule {now.MaskRuleKey.KeyIndex} is not in the file but uses a port or meter this plan removes; add it or run with --prune");
        }
        else
            foreach (ClassifierReadResponse now in c.Rules.Where(Doomed))
                problems.Add(new ManifestProblem(SourceSpan.None(d.File), $"rule {now.MaskRuleKey.KeyIndex} (rules are not managed by this file) uses a port or meter this plan removes", ProblemSeverity.Error));
    }

    /// <summary>SoC redirects: set (phase 7), cleared by prune (phase 2).</summary>
    private void Switches()
    {
        if (d.Switches is { } switches)
        {
            foreach (DesiredSwitch s in switches)
            {
                ProcSwitchEntry? now = c.Switches.FirstOrDefault(x => x.SrcPfid == s.Src);
                bool clear = s.Src == s.Dest;
                if (clear ? now is null : now?.DestPfid == s.Dest) continue;
                string op = now is null ? "+" : "~";
                changes.Add(new(op, "proc_switch", $"{s.Src}", clear ? "(clear)" : now is null ? $"soc {s.Src} -> soc {s.Dest}" : $"soc {s.Src} -> soc {now.DestPfid} -> soc {s.Dest}",
                    [Step(7, "ProcSwitch", $"soc {s.Src} -> {s.Dest}", async (cl, _) => Status(await DpuClient.Call(cl.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = s.Src, DestPfid = s.Dest }))))]));
            }
            if (prune)
                foreach (ProcSwitchEntry now in c.Switches.Where(x => switches.All(s => s.Src != x.SrcPfid)))
                    changes.Add(new("-", "proc_switch", $"{now.SrcPfid}", "(prune)", [Step(2, "ProcSwitch", $"soc {now.SrcPfid} (clear)", async (cl, _) => Status(await DpuClient.Call(cl.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = now.SrcPfid, DestPfid = now.SrcPfid }))))]));
        }
    }

    /// <summary>The bond, then the optical ports' MTUs (phase 8).</summary>
    private void Optical()
    {
        if (d.Bond is { } bond)
        {
            var current = c.Bond.BondOpts.ToDictionary(o => o.OptName, o => o.Value, StringComparer.Ordinal);
            SortedDictionary<string, string>? wanted = null;
            if (bond.Enable)
            {
                if (OpticalPortValidator.EffectiveBond((int)c.Bond.OpticalPortCnt, bond.Options, out DpuOutcome bad) is { } eff) wanted = eff.Options;
                else Error(bond.At, $"bond: {bad.Detail}");
            }
            bool differs = bond.Enable != c.Bond.Enable || (wanted is not null && !wanted.SequenceEqual(current.OrderBy(kv => kv.Key, StringComparer.Ordinal)));
            if (differs && (!bond.Enable || wanted is not null))
            {
                string text = !bond.Enable ? "enable true -> false"
                    : !c.Bond.Enable ? "enable false -> true, " + string.Join(", ", bond.Options.Select(o => $"{o.OptName}={o.Value}"))
                    : string.Join(", ", wanted!.Where(kv => current.GetValueOrDefault(kv.Key) != kv.Value).Select(kv => $"{kv.Key} {current.GetValueOrDefault(kv.Key) ?? "-"} -> {kv.Value}"));
                var req = new EthMacBondSetRequest { Enable = bond.Enable };
                req.BondOpts.AddRange(bond.Options);
                changes.Add(new("~", "bond", "", text, [Step(8, "EthMacBondSet", "bond", async (cl, _) => Status(await DpuClient.Call(cl.Optical.EthMacBondSetAsync(req))))]));
            }
        }
        if (d.Optical is { } optical)
            foreach (DesiredOptical o in optical)
            {
                if (o.Id >= c.OpticalMtu.Count)
                {
                    Error(o.At, $"optical port {o.Id} does not exist (the DPU has {c.OpticalMtu.Count})");
                    continue;
                }
                if (c.OpticalMtu[(int)o.Id] == o.Mtu) continue;
                changes.Add(new("~", "optical port", $"{o.Id}", $"mtu {c.OpticalMtu[(int)o.Id]} -> {o.Mtu}",
                    [Step(8, "EthMacSetMtu", $"optical port {o.Id}", async (cl, _) => Status(await DpuClient.Call(cl.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = o.Id, Mtu = o.Mtu }))))]));
            }
    }

    private static (uint, string) Status<T>((T Reply, string Detail) r) where T : IMessage =>
        ((uint)(r.Reply.Descriptor.FindFieldByName("status").Accessor.GetValue(r.Reply) ?? 0u), r.Detail);

    /// <summary>A delete that finds nothing has nothing left to do: counted as done (apply converges on a re-run).</summary>
    private static (uint, string) Gone<T>((T Reply, string Detail) r) where T : IMessage
    {
        var (status, detail) = Status(r);
        return status == NotFound ? (Ok, detail) : (status, detail);
    }

    /// <summary>A key as the agent returns it: every field set, zeros included.</summary>
    private static MaskRuleKey Canonical(MaskRuleKey k) => new(k)
    {
        KeyIndex = k.KeyIndex, Dmac = k.Dmac, Smac = k.Smac, DmacMask = k.DmacMask, SmacMask = k.SmacMask, Dl4Port = k.Dl4Port, Dl4PortMask = k.Dl4PortMask,
        Sl4Port = k.Sl4Port, Sl4PortMask = k.Sl4PortMask, Vlan = k.Vlan, VlanMask = k.VlanMask, Vid = k.Vid, VidMask = k.VidMask, IpType = k.IpType,
        Ipprotocol = k.Ipprotocol, IpprotocolMask = k.IpprotocolMask,
    };
}
