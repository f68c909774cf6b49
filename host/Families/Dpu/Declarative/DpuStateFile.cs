using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Manifests;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Families.Dpu.Declarative;

internal sealed record DesiredPort(string Uuid, NewPortRequest Request, YamlNode At);

internal sealed record DesiredVdisk(string Name, VdiskCreateRequest Create, ulong? Sectors, bool? Paused, YamlNode At, IReadOnlyDictionary<string, YamlNode> Fields);

internal sealed record DesiredMeter(uint Id, uint Rate, uint Type, YamlNode At);

/// <param name="PortUuid">The target named by uuid (resolved to a vport when the rule is written), or null.</param>
/// <param name="TargetAt">The action's <c>port</c>, where a target the agent lacks is reported.</param>
internal sealed record DesiredRule(int KeyIndex, MaskRuleKey Key, RuleAction Action, string? PortUuid, YamlNode At, YamlNode? TargetAt);

internal sealed record DesiredSwitch(uint Src, uint Dest, YamlNode At);

internal sealed record DesiredBond(bool Enable, IReadOnlyList<BondOpts> Options, YamlNode At);

internal sealed record DesiredOptical(uint Id, uint Mtu, YamlNode At);

/// <summary>A <c>dpu.yml</c> (reference/dpu.md §9.1): the desired state of one agent. A section that is absent (null here)
/// is not managed.</summary>
internal sealed record DesiredState(string File, string? Agent, IReadOnlyList<DesiredPort>? Ports, IReadOnlyList<DesiredVdisk>? Vdisks,
    IReadOnlyList<DesiredMeter>? Meters, IReadOnlyList<DesiredRule>? Rules, IReadOnlyList<DesiredSwitch>? Switches, DesiredBond? Bond,
    IReadOnlyList<DesiredOptical>? Optical)
{
    public string Where(YamlNode node) => $"{File}:{node.Line}:{node.Column}";
}

/// <summary>Reads and checks a <c>dpu.yml</c> completely before any rpc: types, ranges, references and duplicate keys; every
/// problem with file:line:col.</summary>
internal static class DpuStateFile
{
    /// <summary>virtio-net feature names as the file spells them (the bits an elastic NIC may have).</summary>
    public static readonly IReadOnlyDictionary<string, int> FeatureBits = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["csum"] = 0, ["guest_csum"] = 1, ["mtu"] = 3, ["mac"] = 5, ["mrg_rxbuf"] = 15, ["status"] = 16, ["ctrl_vq"] = 17, ["ctrl_rx"] = 18,
        ["mq"] = 22, ["ctrl_mac_addr"] = 23, ["indirect_desc"] = 28, ["event_idx"] = 29, ["version_1"] = 32,
    };

    private static readonly string[] BondOptionNames = ["enable", "mode", "members", "miimon", "updelay", "downdelay", "xmit_hash_policy", "primary",
        "primary_reselect", "lacp_rate", "min_links", "all_slaves_active"];

    /// <exception cref="ManifestException">Every problem found.</exception>
    public static DesiredState Load(string path) => Read(ManifestReader.Open(path), path);

    /// <summary>The same from a text already read (a saved plan's copy of its file).</summary>
    public static DesiredState Parse(string text, string path) => Read(ManifestReader.Parse(text, path), path);

    private static DesiredState Read((ManifestReader Reader, YamlNode? Root) file, string path)
    {
        var (r, root) = file;
        DesiredState? state = root is null ? null : Parse(root, r, path);
        if (r.HasErrors || state is null) throw new ManifestException([.. r.Problems]);
        return state;
    }

    private static DesiredState? Parse(YamlNode root, ManifestReader r, string path)
    {
        if (r.Mapping(root, "the DPU state file") is not { } top) return null;
        r.Keys(top, "the DPU state file", ["kind", "version", "agent", "ports", "vdisks", "meters", "rules", "proc_switches", "optical"], []);
        if (top["kind"] is { } kind && r.String(kind, "kind") is { } k && k != "dpu_state") r.Error(kind, $"kind '{k}' is not dpu_state");
        if (top["version"] is { } version && r.Integer(version, "version") is { } v && v != 1) r.Error(version, $"version {v} is not 1 (the only one)");
        string? agent = top["agent"] is { } a ? r.String(a, "agent") : null;
        List<DesiredPort>? ports = top["ports"] is { } p ? Ports(p, r) : null;
        List<DesiredVdisk>? vdisks = top["vdisks"] is { } d ? Vdisks(d, r) : null;
        List<DesiredMeter>? meters = top["meters"] is { } m ? Meters(m, r) : null;
        List<DesiredRule>? rules = top["rules"] is { } ru ? Rules(ru, r, ports, meters) : null;
        List<DesiredSwitch>? switches = top["proc_switches"] is { } s ? Switches(s, r) : null;
        DesiredBond? bond = null;
        List<DesiredOptical>? optical = null;
        if (top["optical"] is { } o && r.Mapping(o, "optical") is { } om)
        {
            r.Keys(om, "optical", ["bond", "ports"], []);
            if (om["bond"] is { } b) bond = Bond(b, r);
            if (om["ports"] is { } op) optical = Optical(op, r);
        }
        if (bond is { Enable: true } && optical is not null)
        {
            var members = bond.Options.FirstOrDefault(x => x.OptName == "members")?.Value.Split(',').Select(uint.Parse).ToHashSet();
            var mtus = optical.Where(x => members is null || members.Contains(x.Id)).ToList();
            if (mtus.Select(x => x.Mtu).Distinct().Count() > 1) r.Error(mtus[1].At, "bond members share one MTU: give every member the same mtu");
        }
        return new DesiredState(path, agent, ports, vdisks, meters, rules, switches, bond, optical);
    }

    private static IEnumerable<YamlMapping> Items(YamlNode node, ManifestReader r, string what)
    {
        foreach (YamlNode item in r.Sequence(node, what)?.Items ?? [])
            if (r.Mapping(item, $"an entry of {what}") is { } m) yield return m;
    }

    private static uint? Range(YamlNode? node, ManifestReader r, string what, long min, long max)
    {
        if (node is null) return null;
        if (r.Integer(node, what) is not { } v) return null;
        if (v < min || v > max) { r.Error(node, $"{what} {v} is not {min}..{max}"); return null; }
        return (uint)v;
    }

    private static void Unique<T>(ManifestReader r, List<T> seen, T key, YamlNode at, string what)
    {
        if (seen.Contains(key)) r.Error(at, $"{what} {key} is given twice");
        seen.Add(key);
    }

    private static List<DesiredPort> Ports(YamlNode node, ManifestReader r)
    {
        var list = new List<DesiredPort>();
        var seen = new List<string>();
        foreach (YamlMapping m in Items(node, r, "ports"))
        {
            r.Keys(m, "a port", ["uuid", "vport", "mac", "mtu", "max_qpair", "queue_depth", "features", "feature_list"], ["uuid"]);
            string? uuid = r.String(m["uuid"], "uuid");
            if (uuid is null) continue;
            Unique(r, seen, uuid, m["uuid"]!, "port uuid");
            var req = new NewPortRequest { Uuid = uuid };
            if (Range(m["vport"], r, "vport", 0, 0xFFFF) is { } vp) req.Vport = vp;
            if (Range(m["mtu"], r, "mtu", DpuConfig.MinMtu, DpuConfig.MaxMtu) is { } mtu) req.Mtu = mtu;
            if (Range(m["max_qpair"], r, "max_qpair", 1, 0xFFFF) is { } q) req.MaxQpair = q;
            if (Range(m["queue_depth"], r, "queue_depth", 2, 32768) is { } qd) req.QueueDepth = qd;
            if (m["mac"] is { } macNode && r.String(macNode, "mac") is { } mac)
            {
                if (NicScript.Driver.Wire.MacAddress.TryParse(mac, out byte[] bytes)) req.Mac = ByteString.CopyFrom(bytes);
                else r.Error(macNode, $"mac '{mac}' is not a MAC address like 02:00:00:00:00:2a");
            }
            if (m["features"] is { } f && m["feature_list"] is not null) r.Error(f, "give features or feature_list, not both");
            if (m["features"] is { } fs)
            {
                ulong bits = 0;
                foreach (YamlNode name in r.Sequence(fs, "features")?.Items ?? [])
                    if (r.String(name, "a feature") is { } n)
                    {
                        if (FeatureBits.TryGetValue(n, out int bit)) bits |= 1UL << bit;
                        else r.Error(name, $"feature '{n}' is not one of {string.Join(", ", FeatureBits.Keys)}");
                    }
                req.FeatureList = bits;
            }
            if (m["feature_list"] is { } fl && r.Integer(fl, "feature_list") is { } flv)
            {
                if (flv < 0) r.Error(fl, $"feature_list {flv} is negative (a bit mask, e.g. 0x130020)");
                else req.FeatureList = (ulong)flv;
            }
            list.Add(new DesiredPort(uuid, req, m));
        }
        return list;
    }

    private static List<DesiredVdisk> Vdisks(YamlNode node, ManifestReader r)
    {
        var list = new List<DesiredVdisk>();
        var seen = new List<string>();
        foreach (YamlMapping m in Items(node, r, "vdisks"))
        {
            r.Keys(m, "a vdisk", ["name", "pvf_id", "max_queue", "queue_depth", "msix", "size", "sectors", "paused"], ["name"]);
            string? name = r.String(m["name"], "name");
            if (name is null) continue;
            Unique(r, seen, name, m["name"]!, "vdisk name");
            var req = new VdiskCreateRequest { Name = name };
            var fields = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var e in m.Entries) fields[e.Key.Value] = e.Key;
            if (Range(m["pvf_id"], r, "pvf_id", 0, 0xFFFF) is { } id) req.PvfId = id;
            if (Range(m["max_queue"], r, "max_queue", 1, 0xFFFF) is { } mq) req.MaxQueue = mq;
            if (Range(m["queue_depth"], r, "queue_depth", 2, 32768) is { } qd) req.QueueDepth = qd;
            if (Range(m["msix"], r, "msix", 1, 2048) is { } mx) req.Msix = mx;
            ulong? sectors = null;
            if (m["size"] is { } size && m["sectors"] is not null) r.Error(size, "give size or sectors, not both");
            if (m["size"] is { } sz && r.String(sz, "size") is { } text)
            {
                if (Bytes(text) is not { } bytes) r.Error(sz, $"size '{text}' is not a size like 20GiB, 512MiB or a number of bytes");
                else if (bytes % 512 != 0) r.Error(sz, $"size {text} is not a multiple of 512 bytes");
                else sectors = bytes / 512;
            }
            if (m["sectors"] is { } sc && r.Integer(sc, "sectors") is { } n)
            {
                if (n < 0) r.Error(sc, $"sectors {n} is negative");
                else sectors = (ulong)n;
            }
            bool? paused = null;
            if (m["paused"] is { } pz)
            {
                if (pz is YamlScalar { IsBool: true } b) paused = b.Value.Equals("true", StringComparison.OrdinalIgnoreCase);
                else r.Error(pz, $"paused must be true or false, not {pz.Describe}");
            }
            list.Add(new DesiredVdisk(name, req, sectors, paused, m, fields));
        }
        return list;
    }

    /// <summary>"20GiB", "512MiB", "1TiB", "4096": bytes; null if not a size.</summary>
    private static ulong? Bytes(string text)
    {
        string t = text.Trim();
        (string Suffix, ulong Factor)[] units = [("TiB", 1UL << 40), ("GiB", 1UL << 30), ("MiB", 1UL << 20), ("KiB", 1UL << 10), ("B", 1)];
        ulong factor = 1;
        foreach (var (suffix, f) in units)
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                t = t[..^suffix.Length].Trim();
                factor = f;
                break;
            }
        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) && n <= ulong.MaxValue / factor ? n * factor : null;
    }

    private static List<DesiredMeter> Meters(YamlNode node, ManifestReader r)
    {
        var list = new List<DesiredMeter>();
        var seen = new List<uint>();
        foreach (YamlMapping m in Items(node, r, "meters"))
        {
            r.Keys(m, "a meter", ["id", "rate"], ["id", "rate"]);
            if (Range(m["id"], r, "meter id", 0, uint.MaxValue) is not { } id || m["rate"] is not YamlScalar rate) continue;
            Unique(r, seen, id, m["id"]!, "meter id");
            string t = rate.Value.Trim().ToLowerInvariant();
            (string Suffix, ulong Factor, uint Type)[] units = [("pps", 1, 1), ("gbit", 1_000_000, 0), ("mbit", 1000, 0), ("kbit", 1, 0), ("", 1, 0)];
            var (suffix, factor, type) = units.First(u => t.EndsWith(u.Suffix, StringComparison.Ordinal));
            if (!ulong.TryParse(t[..^suffix.Length].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0 || n > uint.MaxValue / factor)
            {
                r.Error(rate, $"rate '{rate.Value}' is not a rate like 8000 (kbit/s), 100mbit, 1gbit or 20000pps (1 … 4294967295 kbit/s or packets/s)");
                continue;
            }
            list.Add(new DesiredMeter(id, (uint)(n * factor), type, m));
        }
        return list;
    }

    private static List<DesiredRule> Rules(YamlNode node, ManifestReader r, List<DesiredPort>? ports, List<DesiredMeter>? meters)
    {
        var list = new List<DesiredRule>();
        var seen = new List<int>();
        foreach (YamlMapping m in Items(node, r, "rules"))
        {
            r.Keys(m, "a rule", ["key_index", "match", "action"], ["key_index", "action"]);
            if (Range(m["key_index"], r, "key_index", 0, int.MaxValue) is not { } ki) continue;
            int keyIndex = (int)ki;
            Unique(r, seen, keyIndex, m["key_index"]!, "rule key_index");
            var key = new MaskRuleKey { KeyIndex = keyIndex, Dmac = ByteString.Empty, Smac = ByteString.Empty, IpType = "" };
            if (m["match"] is { } mn && r.Mapping(mn, "match") is { } match) Match(match, key, r);
            if (TrafficControlValidator.KeyProblem(key, keyIndex) is { } why) r.Error(m["match"] ?? m, $"the match is not a valid key: {why}");
            if (r.Mapping(m["action"], "action") is not { } am) continue;
            r.Keys(am, "action", ["port", "queue", "meter"], ["port"]);
            var action = new RuleAction { Qid = 0 };
            string? uuid = null;
            if (r.String(am["port"], "action port") is { } port)
            {
                if (port == "drop") (action.Vid, action.Qid) = (-1, -1);
                else if (PortId(port, allowWildcard: false) is { } vid) action.Vid = vid.Value;
                else if (ports?.Any(p => p.Uuid == port) == true || !port.Contains(':')) uuid = port; // checked against the agent at plan time
                else r.Error(am["port"]!, $"port '{port}' is not a port uuid, vport:N, soc:N, optical:N or drop");
            }
            if (am["queue"] is { } q)
            {
                if (q is YamlScalar { Value: "any" }) action.Qid = -1;
                else if (Range(q, r, "queue", 0, 0xFFFF) is { } qid) action.Qid = (int)qid;
            }
            if (am["meter"] is { } mt && Range(mt, r, "meter", 0, uint.MaxValue) is { } meter)
            {
                action.MeterId = meter;
                if (meters is not null && meters.All(x => x.Id != meter)) r.Error(mt, $"meter {meter} is not in the file's meters");
            }
            list.Add(new DesiredRule(keyIndex, key, action, uuid, m, am["port"]));
        }
        return list;
    }

    /// <summary>vport:N, soc:N, optical:N (and with <paramref name="allowWildcard"/> the class wildcards): (vid, mask).</summary>
    private static (int Value, int Mask)? PortId(string text, bool allowWildcard)
    {
        string[] parts = text.Split(':');
        if (parts.Length != 2) return null;
        int @base = parts[0] switch { "vport" => 0, "soc" => DpuAgent.SocBase, "optical" => DpuAgent.OpticalBase, _ => -1 };
        if (@base < 0) return null;
        if (parts[1] == "*") return allowWildcard ? (@base, 0x30000) : null;
        return int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n <= 0xFFFF ? (@base + n, 0x7FFFFFFF) : null;
    }

    private static void Match(YamlMapping m, MaskRuleKey key, ManifestReader r)
    {
        r.Keys(m, "match", ["in_port", "ip_type", "dip", "sip", "protocol", "dport", "sport", "dmac", "smac", "vlan"], []);
        if (r.String(m["in_port"], "in_port") is { } inPort)
        {
            if (PortId(inPort, allowWildcard: true) is { } id) (key.Vid, key.VidMask) = id;
            else r.Error(m["in_port"]!, $"in_port '{inPort}' is not vport:N, soc:N, optical:N or a class wildcard like optical:*");
        }
        string? ipType = r.String(m["ip_type"], "ip_type");
        if (ipType is not null and not ("ipv4" or "ipv6")) r.Error(m["ip_type"]!, $"ip_type '{ipType}' is not ipv4 or ipv6");
        foreach (string field in new[] { "dip", "sip" })
        {
            if (r.String(m[field], field) is not { } text) continue;
            if (Prefix(text) is not { } p) { r.Error(m[field]!, $"{field} '{text}' is not an address, a CIDR prefix (/0..32 for IPv4, /0..128 for IPv6) or address/mask (a.b.c.d/255.255.255.0)"); continue; }
            string family = p.Value.Length == 1 ? "ipv4" : "ipv6";
            if (ipType is not null && ipType != family) r.Error(m[field]!, $"{field} {text} is not {ipType}");
            ipType ??= family;
            (field == "dip" ? key.Dip : key.Sip).AddRange(p.Value);
            (field == "dip" ? key.DipMask : key.SipMask).AddRange(p.Mask);
        }
        key.IpType = ipType ?? "";
        if (m["protocol"] is { } proto && r.String(proto, "protocol") is { } pt)
        {
            int? number = pt switch { "tcp" => 6, "udp" => 17, "sctp" => 132, "icmp" => 1, "icmpv6" => 58, _ => int.TryParse(pt, out int n) && n is >= 0 and <= 255 ? n : null };
            if (number is null) r.Error(proto, $"protocol '{pt}' is not tcp, udp, sctp, icmp, icmpv6 or 0..255");
            else (key.Ipprotocol, key.IpprotocolMask) = (number.Value, 0xFF);
        }
        foreach (string field in new[] { "dport", "sport" })
        {
            if (r.String(m[field], field) is not { } text) continue;
            if (ValueMask(text, 0xFFFF) is not { } vm) { r.Error(m[field]!, $"{field} '{text}' is not N or N/mask within 0..65535"); continue; }
            if (field == "dport") (key.Dl4Port, key.Dl4PortMask) = ((int)vm.Value, (int)vm.Mask);
            else (key.Sl4Port, key.Sl4PortMask) = ((int)vm.Value, (int)vm.Mask);
        }
        if (r.String(m["vlan"], "vlan") is { } vlan)
        {
            if (ValueMask(vlan, 0xFFF) is { } vm) (key.Vlan, key.VlanMask) = ((int)vm.Value, (int)vm.Mask);
            else r.Error(m["vlan"]!, $"vlan '{vlan}' is not N or N/mask within 0..4095");
        }
        foreach (string field in new[] { "dmac", "smac" })
        {
            if (r.String(m[field], field) is not { } text) continue;
            string[] parts = text.Split('/');
            if (!NicScript.Driver.Wire.MacAddress.TryParse(parts[0], out byte[] mac) || parts.Length > 2 ||
                (parts.Length == 2 && !NicScript.Driver.Wire.MacAddress.TryParse(parts[1], out _)))
            {
                r.Error(m[field]!, $"{field} '{text}' is not a MAC or MAC/mask like 02:00:00:00:00:00/ff:ff:ff:00:00:00");
                continue;
            }
            long mask = 0xFFFFFFFFFFFF;
            if (parts.Length == 2 && NicScript.Driver.Wire.MacAddress.TryParse(parts[1], out byte[] mb)) mask = (long)NicScript.Driver.Wire.MacAddress.ToUInt64(mb);
            long value = (long)NicScript.Driver.Wire.MacAddress.ToUInt64(mac) & mask;
            byte[] masked = NicScript.Driver.Wire.MacAddress.FromUInt64((ulong)value);
            if (field == "dmac") (key.Dmac, key.DmacMask) = (ByteString.CopyFrom(masked), mask);
            else (key.Smac, key.SmacMask) = (ByteString.CopyFrom(masked), mask);
        }
    }

    /// <summary>"10.0.0.0/24", "10.0.0.7", "10.0.0.0/255.255.255.0", "2001:db8::/32": words and mask words (value bits outside the mask cleared).</summary>
    /// <remarks>Only the written forms: an IPv4 address or mask is a dotted quad (.NET would read "33" as 0.0.0.33 and "10.1" as
    /// 10.0.0.1), a prefix length is digits 0..32 (IPv4) or 0..128 (IPv6), a mask is of the address's family; no zone ("%eth0").</remarks>
    private static (uint[] Value, uint[] Mask)? Prefix(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length > 2 || Address(parts[0]) is not { } address) return null;
        byte[] bytes = address.GetAddressBytes();
        int bits = bytes.Length * 8;
        byte[] mask = new byte[bytes.Length];
        if (parts.Length == 1) Array.Fill(mask, (byte)0xFF);
        else if (parts[1].Length is > 0 and <= 3 && parts[1].All(char.IsAsciiDigit))
        {
            int len = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
            if (len > bits) return null;
            for (int i = 0; i < len; i++) mask[i / 8] |= (byte)(0x80 >> (i % 8));
        }
        else if (Address(parts[1]) is { } m && m.AddressFamily == address.AddressFamily) mask = m.GetAddressBytes();
        else return null;
        uint Word(byte[] b, int i) => (uint)(b[4 * i] << 24 | b[4 * i + 1] << 16 | b[4 * i + 2] << 8 | b[4 * i + 3]);
        int words = bytes.Length / 4;
        return (Enumerable.Range(0, words).Select(i => Word(bytes, i) & Word(mask, i)).ToArray(), Enumerable.Range(0, words).Select(i => Word(mask, i)).ToArray());
    }

    /// <summary>An IPv4 dotted quad or an IPv6 address without a zone, or null.</summary>
    private static IPAddress? Address(string text)
    {
        if (!IPAddress.TryParse(text, out IPAddress? a)) return null;
        return a.AddressFamily switch
        {
            AddressFamily.InterNetwork when text.Count(c => c == '.') == 3 && text.All(c => c == '.' || char.IsAsciiDigit(c)) => a,
            AddressFamily.InterNetworkV6 when text.Contains(':') && !text.Contains('%') => a,
            _ => null,
        };
    }

    private static (uint Value, uint Mask)? ValueMask(string text, uint max)
    {
        string[] parts = text.Split('/');
        if (parts.Length > 2 || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint v) || v > max) return null;
        uint mask = max;
        if (parts.Length == 2 && !(uint.TryParse(parts[1].StartsWith("0x", StringComparison.Ordinal) ? parts[1][2..] : parts[1],
                parts[1].StartsWith("0x", StringComparison.Ordinal) ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out mask) && mask <= max))
            return null;
        return (v & mask, mask);
    }

    private static List<DesiredSwitch> Switches(YamlNode node, ManifestReader r)
    {
        var list = new List<DesiredSwitch>();
        var seen = new List<uint>();
        foreach (YamlMapping m in Items(node, r, "proc_switches"))
        {
            r.Keys(m, "a proc switch", ["src", "dest"], ["src", "dest"]);
            if (Range(m["src"], r, "src", 0, 0xFFFF) is not { } src || Range(m["dest"], r, "dest", 0, 0xFFFF) is not { } dest) continue;
            Unique(r, seen, src, m["src"]!, "proc switch src");
            list.Add(new DesiredSwitch(src, dest, m));
        }
        return list;
    }

    private static DesiredBond? Bond(YamlNode node, ManifestReader r)
    {
        if (r.Mapping(node, "bond") is not { } m) return null;
        r.Keys(m, "bond", BondOptionNames, ["enable"]);
        if (m["enable"] is not YamlScalar { IsBool: true } en)
        {
            r.Error(m["enable"] ?? m, "bond enable must be true or false");
            return null;
        }
        bool enable = en.Value.Equals("true", StringComparison.OrdinalIgnoreCase);
        var options = new List<BondOpts>();
        foreach (var (k, v) in m.Entries)
        {
            if (k.Value == "enable") continue;
            string? value = v is YamlSequence seq ? string.Join(',', seq.Items.Select(i => (i as YamlScalar)?.Value)) : r.String(v, k.Value);
            if (value is not null) options.Add(new BondOpts { OptName = k.Value, Value = value });
        }
        if (!enable && options.Count > 0) r.Error(m, "a bond with enable: false takes no other option");
        if (enable && OpticalPortValidator.EffectiveBond(256, options, out DpuOutcome bad) is null) r.Error(m, $"bond: {bad.Detail}");
        return new DesiredBond(enable, options, m);
    }

    private static List<DesiredOptical> Optical(YamlNode node, ManifestReader r)
    {
        var list = new List<DesiredOptical>();
        var seen = new List<uint>();
        foreach (YamlMapping m in Items(node, r, "optical ports"))
        {
            r.Keys(m, "an optical port", ["id", "mtu"], ["id", "mtu"]);
            if (Range(m["id"], r, "optical port id", 0, 0xFFFF) is not { } id || Range(m["mtu"], r, "mtu", DpuConfig.MinMtu, DpuConfig.MaxMtu) is not { } mtu) continue;
            Unique(r, seen, id, m["id"]!, "optical port id");
            list.Add(new DesiredOptical(id, mtu, m));
        }
        return list;
    }
}
