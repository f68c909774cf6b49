using System.Globalization;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Families.Dpu.Agent.DpuChange;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the OpticalPort service's requests must satisfy (reference/dpu.md §6.6, bonding options §5.7), checked
/// against the current state: a refusal with its status and detail, nothing to do, or the change with its rows. The
/// bond's effective option set is worked out here, for the agent and for <c>nicscript plan</c> alike.</summary>
internal sealed class OpticalPortValidator(DpuConfig config)
{
    internal static readonly string[] BondModes = ["balance-rr", "active-backup", "balance-xor", "broadcast"], UnsupportedModes = ["802.3ad", "balance-tlb", "balance-alb"];
    internal static readonly string[] HashPolicies = ["layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"];
    internal static readonly string[] Reselect = ["always", "better", "failure"];
    private static readonly string[] KnownOptions = ["mode", "members", "miimon", "updelay", "downdelay", "xmit_hash_policy", "primary", "primary_reselect", "lacp_rate", "min_links", "all_slaves_active"];
    private static readonly string[] LinuxOnlyOptions =
        ["arp_interval", "arp_ip_target", "arp_validate", "arp_all_targets", "fail_over_mac", "ad_select", "use_carrier", "num_grat_arp", "num_unsol_na", "resend_igmp", "lp_interval", "packets_per_slave", "tlb_dynamic_lb", "ad_actor_sys_prio", "ad_user_port_key", "ad_actor_system", "peer_notif_delay", "active_slave", "max_bonds"];

    private DpuConfig Config => config;

    /// <summary>EthMacGetLink, EthMacGetMtu and EthMacGetStats: the port_id must be given and name an optical port.</summary>
    public DpuOutcome CheckOptical(bool has, uint portId) =>
        !has ? new(DpuStatus.InvalidArgument, "port_id must be present")
        : portId >= Config.OpticalPorts ? new(DpuStatus.NotFound, $"optical port {portId} does not exist ({Config.OpticalPorts} ports)")
        : DpuOutcome.Ok;

    /// <summary>EthMacSetMtu: a bonded port's MTU is set on every member.</summary>
    public DpuChange EthMacSetMtu(EthMacSetMtuRequest r, DpuState s)
    {
        if (!r.HasPortId || !r.HasMtu) return Refuse(DpuStatus.InvalidArgument, "port_id and mtu must be present");
        if (r.PortId >= Config.OpticalPorts) return Refuse(DpuStatus.NotFound, $"optical port {r.PortId} does not exist");
        if (r.Mtu < DpuConfig.MinMtu || r.Mtu > DpuConfig.MaxMtu) return Refuse(DpuStatus.InvalidArgument, $"mtu {r.Mtu} is not {DpuConfig.MinMtu}..{DpuConfig.MaxMtu}");
        var ports = s.Bond.Enable ? s.Bond.MemberPortIds.Select(m => (int)m).ToList() : [(int)r.PortId];
        if (!ports.Contains((int)r.PortId)) ports = [(int)r.PortId];
        if (ports.All(p => s.OpticalMtu[p] == r.Mtu)) return Nothing();
        var mtus = s.OpticalMtu;
        var rows = new List<(string, long, byte[]?)>();
        foreach (int p in ports)
        {
            mtus = mtus.SetItem(p, r.Mtu);
            rows.Add(("optical_ports", p, BitConverter.GetBytes(r.Mtu)));
        }
        return Done(s with { OpticalMtu = mtus }, rows);
    }

    /// <summary>EthMacBondSet: the effective option set; the members take the MTU of the lowest one.</summary>
    public DpuChange EthMacBondSet(EthMacBondSetRequest r, DpuState s)
    {
        if (!r.HasEnable) return Refuse(DpuStatus.InvalidArgument, "enable must be present");
        if (!r.Enable)
        {
            if (r.BondOpts.Count > 0) return Refuse(DpuStatus.InvalidArgument, "bond_opts with enable=false");
            if (!s.Bond.Enable) return Nothing();
            var off = new EthMacBondGetResponse { Status = 0, Enable = false, OpticalPortCnt = (uint)Config.OpticalPorts, ActivePortId = 0 };
            return Done(s with { Bond = off }, [("bond", 0, Bytes(off))]);
        }
        if (EffectiveBond(Config.OpticalPorts, r.BondOpts, out DpuOutcome refused) is not { } effective) return Refuse(refused.Status, refused.Detail);
        var (eff, members) = effective;
        var bond = new EthMacBondGetResponse
        {
            Status = 0, Enable = true, OpticalPortCnt = (uint)Config.OpticalPorts,
            ActivePortId = eff.TryGetValue("primary", out string? pr) ? uint.Parse(pr, CultureInfo.InvariantCulture) : members[0],
        };
        bond.BondOpts.AddRange(eff.Select(kv => new BondOpts { OptName = kv.Key, Value = kv.Value }));
        bond.MemberPortIds.AddRange(members.Order());
        if (s.Bond.Equals(bond)) return Nothing();
        uint mtu = s.OpticalMtu[(int)members.Min()];
        var mtus = s.OpticalMtu;
        var rows = new List<(string, long, byte[]?)> { ("bond", 0, Bytes(bond)) };
        foreach (uint m in members)
            if (mtus[(int)m] != mtu)
            {
                mtus = mtus.SetItem((int)m, mtu);
                rows.Add(("optical_ports", m, BitConverter.GetBytes(mtu)));
            }
        return Done(s with { Bond = bond, OpticalMtu = mtus }, rows);
    }

    /// <summary>The full option set a bond of these options has (§5.7): canonical names and values, defaults filled in,
    /// delays rounded down to miimon; null with the <paramref name="refusal"/> when an option is refused. Shared by
    /// EthMacBondSet and <c>nicscript plan</c>, so both compare the same effective set.</summary>
    internal static (SortedDictionary<string, string> Options, uint[] Members)? EffectiveBond(int opticalPorts, IEnumerable<BondOpts> options, out DpuOutcome refusal)
    {
        DpuOutcome bad = DpuOutcome.Ok;
        var result = Effective();
        refusal = bad;
        return result;

        (SortedDictionary<string, string>, uint[])? Effective()
        {
        void Fail(DpuStatus s, string d) => bad = new DpuOutcome(s, d);
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (BondOpts opt in options)
        {
            if (given.ContainsKey(opt.OptName)) { Fail(DpuStatus.InvalidArgument, $"option {opt.OptName} given twice"); return null; }
            if (LinuxOnlyOptions.Contains(opt.OptName)) { Fail(DpuStatus.Unsupported, $"option {opt.OptName} is not emulated"); return null; }
            if (!KnownOptions.Contains(opt.OptName)) { Fail(DpuStatus.InvalidArgument, $"{opt.OptName} is not a bonding option"); return null; }
            given[opt.OptName] = opt.Value;
        }
        var eff = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["mode"] = "balance-rr", ["members"] = string.Join(',', Enumerable.Range(0, opticalPorts)), ["miimon"] = "100", ["updelay"] = "0",
            ["downdelay"] = "0", ["xmit_hash_policy"] = "layer2", ["primary_reselect"] = "always", ["lacp_rate"] = "slow", ["min_links"] = "0",
            ["all_slaves_active"] = "0",
        };
        foreach (var (name, value) in given)
        {
            if (Canonical(opticalPorts, name, value, out DpuOutcome why) is not { } canon) { bad = why; return null; }
            eff[name] = canon;
        }
        uint[] members = eff["members"].Split(',').Select(uint.Parse).ToArray();
        if (members.FirstOrDefault(m => m >= opticalPorts) is var missing && members.Any(m => m >= opticalPorts)) { Fail(DpuStatus.NotFound, $"member {missing} is not an optical port"); return null; }
        if (eff.TryGetValue("primary", out string? primary) && !members.Contains(uint.Parse(primary, CultureInfo.InvariantCulture))) { Fail(DpuStatus.InvalidArgument, $"primary {primary} is not a member"); return null; }
        int miimon = int.Parse(eff["miimon"], CultureInfo.InvariantCulture);
        foreach (string d in new[] { "updelay", "downdelay" })
            eff[d] = (miimon == 0 ? 0 : int.Parse(eff[d], CultureInfo.InvariantCulture) / miimon * miimon).ToString(CultureInfo.InvariantCulture);
        return (eff, members);
        }
    }

    /// <summary>An option's value in canonical spelling, or null with the outcome that refuses it (§5.7).</summary>
    private static string? Canonical(int opticalPorts, string name, string value, out DpuOutcome outcome)
    {
        DpuOutcome bad = DpuOutcome.Ok;
        string? result = CanonicalCore(opticalPorts, name, value, ref bad);
        outcome = bad;
        return result;
    }

    private static string? CanonicalCore(int opticalPorts, string name, string value, ref DpuOutcome badRef)
    {
        DpuOutcome bad = DpuOutcome.Ok;
        string? r = Inner();
        badRef = bad;
        return r;

        string? Inner()
        {
        string v = value.Trim();
        string? Pick(string[] names, string[]? unsupported = null)
        {
            if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                if (n < names.Length) return names[n];
                if (unsupported is not null && n - names.Length < unsupported.Length) { bad = new(DpuStatus.Unsupported, $"{name} {v} is not emulated"); return null; }
            }
            if (names.Contains(v)) return v;
            if (unsupported?.Contains(v) == true) { bad = new(DpuStatus.Unsupported, $"{name} {v} is not emulated"); return null; }
            bad = new(DpuStatus.InvalidArgument, $"{name} '{value}' is not valid");
            return null;
        }
        string? Range(int min, int max)
        {
            if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n.ToString(CultureInfo.InvariantCulture);
            bad = new(DpuStatus.InvalidArgument, $"{name} '{value}' is not {min}..{max}");
            return null;
        }
        switch (name)
        {
            case "mode": return Pick(BondModes, UnsupportedModes);
            case "xmit_hash_policy": return Pick(HashPolicies);
            case "primary_reselect": return Pick(Reselect);
            case "lacp_rate": return v is "slow" or "0" ? "slow" : v is "fast" or "1" ? "fast" : Pick(["slow", "fast"]);
            case "miimon":
            case "updelay":
            case "downdelay": return Range(0, 60000);
            case "min_links": return Range(0, opticalPorts);
            case "all_slaves_active": return Range(0, 1);
            case "primary": return Range(0, 255);
            case "members":
                string[] parts = v.Split(',');
                if (parts.Length == 0 || parts.Any(p => !uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)) || parts.Distinct().Count() != parts.Length)
                {
                    bad = new(DpuStatus.InvalidArgument, $"members '{value}' is not a list of port ids");
                    return null;
                }
                return string.Join(',', parts.Select(uint.Parse).Order());
            default:
                bad = new(DpuStatus.InvalidArgument, $"{name} is not a bonding option");
                return null;
        }
        }
    }
}
