using System.Collections.Immutable;
using System.Globalization;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;
using NicScript.Host.Families;

namespace NicScript.Host.Manifests;

/// <summary>Reads a machine file (<c>machine</c>, <c>wires</c>, <c>devices</c>); every problem with file:line:col.</summary>
/// <remarks>A device's <c>type</c> is any device families declare (<see cref="DeviceFamilies.DeviceTypes"/>), with the keys it
/// declares; any other top-level block is a family's (<see cref="DeviceFamilies.MachineBlocks"/>), which reads it.</remarks>
public static class MachineFileParser
{
    private static readonly string[] WireTypes = ["loopback", "pair", "switch", "tap"];

    /// <exception cref="ManifestException">Every error found.</exception>
    public static MachineSpec Load(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        var (r, root) = ManifestReader.Open(path);
        MachineSpec? spec = root is null ? null : Parse(root, r, full);
        if (r.HasErrors || spec is null) throw new ManifestException([.. r.Problems]);
        return spec;
    }

    private static MachineSpec? Parse(YamlNode root, ManifestReader r, string full)
    {
        if (r.Mapping(root, "the machine file") is not { } top) return null;
        r.Keys(top, "the machine file", ["machine", "wires", "devices", .. DeviceFamilies.MachineBlocks.Select(b => b.Key)], ["machine", "wires", "devices"]);
        string name = "machine";
        if (r.Mapping(top["machine"], "machine") is { } m)
        {
            r.Keys(m, "machine", ["name"], ["name"]);
            name = r.String(m["name"], "machine.name") ?? name;
        }
        string dir = System.IO.Path.GetDirectoryName(full)!;
        var wires = ImmutableArray.CreateBuilder<WireSpec>();
        var wireNodes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var captures = new HashSet<string>(StringComparer.Ordinal);
        YamlSequence? wireList = r.Sequence(top["wires"], "wires");
        foreach (YamlNode item in wireList?.Items ?? [])
        {
            if (r.Mapping(item, "a wire") is not { } w) continue;
            r.Keys(w, "a wire", ["name", "type", "ifname", "ports", "pcap", "faults"], ["name", "type"]);
            string? wname = r.String(w["name"], "wire name"), type = r.String(w["type"], "wire type");
            bool ok = wname is not null && type is not null;
            if (wname is { Length: 0 }) { r.Error(w["name"]!, "a wire's name must not be empty"); ok = false; }
            if (type is not null && !WireTypes.Contains(type)) { r.Error(w["type"]!, $"wire type '{type}' is not one of {string.Join(", ", WireTypes)}"); ok = false; }
            string? ifname = r.String(w["ifname"], "wire ifname");
            if (type == "tap" && ifname is null) { r.Error(w, "a tap wire needs ifname"); ok = false; }
            if (type is not null and not "tap" && w["ifname"] is { } ifAt) { r.Error(ifAt, $"ifname applies to a tap wire, not a {type}"); ok = false; }
            if (type == "tap" && ifname is not null && InterfaceNameProblem(ifname) is { } ifProblem) { r.Error(w["ifname"]!, $"ifname '{ifname}': {ifProblem}"); ok = false; }
            int ports = 16;
            if (w["ports"] is { } portsAt)
            {
                long? asked = r.Integer(portsAt, "wire ports");
                if (type is not null and not "switch") { r.Error(portsAt, $"ports applies to a switch wire, not a {type}"); ok = false; }
                else if (asked is < 1 or > MaxSwitchPorts) { r.Error(portsAt, $"wire ports {asked}: a switch has 1..{MaxSwitchPorts} ports"); ok = false; }
                else if (asked is null) ok = false;
                else ports = (int)asked;
            }
            string? pcap = null;
            if (r.String(w["pcap"], "wire pcap") is { } p)
            {
                if (p.Length == 0 || p.IndexOf('\0') >= 0) { r.Error(w["pcap"]!, "wire pcap: expected a file name"); ok = false; }
                else
                {
                    pcap = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, p));
                    if (Directory.Exists(pcap)) { r.Error(w["pcap"]!, $"wire pcap '{p}' is a folder, not a file"); ok = false; }
                    else if (!captures.Add(pcap)) { r.Error(w["pcap"]!, $"wire pcap '{p}' is already another wire's capture"); ok = false; }
                }
            }
            FaultSettings? faults = null;
            if (w["faults"] is { } f && (faults = ParseFaults(f, r)) is null) ok = false;
            if (wname is { Length: > 0 } && !wireNodes.TryAdd(wname, w)) { r.Error(w["name"]!, $"wire '{wname}' is defined twice"); ok = false; }
            if (ok) wires.Add(new WireSpec(wname!, type!, ifname, ports, pcap, faults, r.At(w)));
        }
        if (wireList is { Items.Count: 0 }) r.Error(wireList, "a machine needs at least one wire");
        var devices = ImmutableArray.CreateBuilder<DeviceSpec>();
        var macs = new Dictionary<ulong, YamlNode>();
        var ips = new HashSet<System.Net.IPAddress>();
        var plugged = new Dictionary<string, int>(StringComparer.Ordinal);
        var taken = new HashSet<PciAddress>();
        YamlSequence? deviceList = r.Sequence(top["devices"], "devices");
        if (deviceList is { Items.Count: > MaxDevices }) r.Error(deviceList, $"a machine has at most {MaxDevices} devices, got {deviceList.Items.Count}");
        foreach (YamlNode item in deviceList?.Items.Take(MaxDevices) ?? [])
        {
            if (r.Mapping(item, "a device") is not { } d) continue;
            // the keys are the device type's; a device of no known type is checked against the first type's
            MachineDeviceType kind = d["type"] is YamlScalar { IsNull: false } named && DeviceFamilies.DeviceType(named.Value) is { } known ? known : DeviceFamilies.DeviceTypes[0];
            YamlNode? Key(string key) => kind.Keys.Contains(key) ? d[key] : null;
            r.Keys(d, "a device", [.. kind.Keys, "vfio-user"], kind.Required); // every type's function can be given to a guest
            string? type = r.String(d["type"], "device type");
            bool ok = true;
            if (type is not null && DeviceFamilies.DeviceType(type) is null)
            {
                r.Error(d["type"]!, $"device type '{type}' is not known (expected {string.Join(", ", DeviceFamilies.DeviceTypes.Select(t => t.Name))})");
                ok = false;
            }
            PciAddress? address = null;
            if (r.String(d["address"], "device address") is { } a)
            {
                if (PciAddress.TryParse(a, out PciAddress parsed, out string? error)) address = parsed;
                else r.Error(d["address"]!, error!);
            }
            long? irq = r.Integer(Key("irq"), "device irq");
            if (irq is < 0 or > 31) { r.Error(d["irq"]!, $"device irq {irq}: INTx lines are 0-31"); ok = false; }
            byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, (byte)(0x56 + devices.Count)];
            YamlNode macAt = d;
            if (r.String(Key("mac"), "device mac") is { } macText)
            {
                macAt = d["mac"]!;
                if (ParseMac(macText, macAt, r, "52:54:00:12:34:56") is { } parsedMac) mac = parsedMac;
                else ok = false;
            }
            if (ok && !macs.TryAdd(NicScript.Driver.Wire.MacAddress.ToUInt64(mac), macAt))
            {
                r.Error(macAt, $"MAC {NicScript.Driver.Wire.MacAddress.Format(mac)} is already the MAC of the device at line {macs[NicScript.Driver.Wire.MacAddress.ToUInt64(mac)].Line}");
                ok = false;
            }
            string? wire = r.String(d["wire"], "device wire");
            if (wire is not null && !wireNodes.ContainsKey(wire)) { r.Error(d["wire"]!, $"wire '{wire}' is not defined in wires"); ok = false; }
            else if (wire is not null && wires.FirstOrDefault(x => x.Name == wire) is { } ws)
            {
                int used = plugged[wire] = plugged.GetValueOrDefault(wire) + 1;
                int room = Room(ws);
                if (used > room) { r.Error(d["wire"]!, $"wire '{wire}' ({ws.Type}) has no free port: {Describe(ws, room)}"); ok = false; }
            }
            if (address is { } ad && Clash(ad, kind.Functions, taken) is { } clash) { r.Error(d["address"]!, $"PCI address {clash} is taken"); ok = false; }
            NicConfig? netdevice = null;
            if (Key("netdevice") is { } nd && (netdevice = ParseNetDevice(nd, r, mac)) is null) ok = false;
            System.Net.IPAddress? ipv4 = null;
            if (r.String(Key("ipv4"), "device ipv4") is { } ipText)
            {
                if (System.Net.IPAddress.TryParse(ipText, out System.Net.IPAddress? ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && IsDottedQuad(ipText))
                {
                    ipv4 = ip;
                    if (!ips.Add(ip)) { r.Error(d["ipv4"]!, $"ipv4 {ip} is already another device's address"); ok = false; }
                }
                else { r.Error(d["ipv4"]!, $"'{ipText}' is not an IPv4 address (a.b.c.d)"); ok = false; }
            }
            bool rdma = Bool(Key("rdma"), r, "device rdma") ?? false;
            if (rdma && ipv4 is null && d["ipv4"] is null) r.Error(d, "an RDMA device takes its function's address: give the device an ipv4");
            string? vfioUser = null;
            if (r.String(d["vfio-user"], "device vfio-user") is { } vu && vu != "false")
            {
                if (vu.IndexOf('\0') >= 0 || vu.Length == 0) { r.Error(d["vfio-user"]!, "device vfio-user: true (a socket in the run's folder) or a socket path"); ok = false; }
                else vfioUser = vu == "true" ? "" : System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, vu));
            }
            if (ok && type is not null && address is not null && (irq is not null || !kind.Required.Contains("irq")) && wire is not null)
            {
                taken.UnionWith(Functions(address.Value, kind.Functions));
                devices.Add(new DeviceSpec(type, address.Value, (int?)irq, mac, wire, r.At(d)) { NetDevice = netdevice, Ipv4 = ipv4, Rdma = rdma, VfioUser = vfioUser });
            }
        }
        var wiring = new MachineWiring(wires.ToImmutable(), plugged, wireNodes);
        var blocks = ImmutableDictionary.CreateBuilder<string, object>(StringComparer.Ordinal);
        foreach (MachineBlock block in DeviceFamilies.MachineBlocks) // each family reads its own block, absent or not
            if (block.Read(top[block.Key], wiring, r) is { } read) blocks[block.Key] = read;
        return new MachineSpec(full, name, wires.ToImmutable(), devices.ToImmutable()) { Blocks = blocks.ToImmutable() };
    }

    /// <summary>The <paramref name="count"/> functions a device takes from <paramref name="first"/>: consecutive routing IDs, as
    /// SR-IOV places VFs (PF + First VF Offset 1, stride 1).</summary>
    private static IEnumerable<PciAddress> Functions(PciAddress first, int count)
    {
        int rid = first.Bus << 8 | first.Device << 3 | first.Function;
        for (int i = 0; i < count; i++, rid++)
            yield return new PciAddress(first.Segment, (byte)(rid >> 8 & 0xFF), (byte)(rid >> 3 & 0x1F), (byte)(rid & 7));
    }

    /// <summary>The first of a device's functions another device already takes, or null.</summary>
    private static PciAddress? Clash(PciAddress first, int count, HashSet<PciAddress> taken)
    {
        foreach (PciAddress a in Functions(first, count))
            if (taken.Contains(a)) return a;
        return null;
    }

    /// <summary>The most ports a switch wire may have.</summary>
    public const int MaxSwitchPorts = 1024;

    /// <summary>The most devices a machine file may place (each is a PCI function with its own rings and interrupts).</summary>
    public const int MaxDevices = 256;

    /// <summary>How many devices a wire takes: loopback and TAP one, a pair two, a switch its ports.</summary>
    internal static int Room(WireSpec w) => w.Type switch { "pair" => 2, "switch" => w.Ports, _ => 1 };

    internal static string Describe(WireSpec w, int room) => w.Type switch
    {
        "switch" => $"it has {room} ports (raise ports)",
        "pair" => "a pair joins two devices (use a switch for more)",
        _ => $"a {w.Type} wire takes one device (use a pair or a switch for more)",
    };

    /// <summary>Why <paramref name="name"/> cannot be a Linux interface name (<c>dev_valid_name</c>: under IFNAMSIZ, no '/', ':' or
    /// white space, not "." or ".."), or null.</summary>
    public static string? InterfaceNameProblem(string name)
    {
        if (name.Length is 0 or > 15) return $"an interface name has 1-15 characters (IFNAMSIZ 16), got {name.Length}";
        if (name is "." or "..") return "'.' and '..' are not interface names";
        foreach (char c in name)
            if (c is '/' or ':' || c <= ' ' || c > '~') return $"an interface name is printable ASCII without '/', ':' or spaces";
        return null;
    }

    private static bool IsDottedQuad(string text) => text.Count(c => c == '.') == 3;

    private static readonly string[] NetDeviceKeys =
    [
        "rx_depth", "tx_depth", "rx_threshold", "max_buffer_parts", "buffer_alignment", "max_buffer_length", "min_rx_buffer_length",
        "min_tx_buffer_length", "min_tx_buffer_head", "min_tx_buffer_tail", "rx_accel", "tx_accel", "ports",
    ];

    private static readonly string[] PortKeys = ["id", "class", "rx_types", "tx_types", "mac", "mac_modes", "multicast_filter_count", "online", "mtu", "uplink"];

    /// <summary>
    /// A device's <c>netdevice</c> block: the emulated NIC behind its Fuchsia-style netdevice (reference/netdevice.md §6 fixture
    /// F, ND-02). Every rule of <see cref="NicConfig.Validate"/> is reported at the block with the field's name.
    /// </summary>
    internal static NicConfig? ParseNetDevice(YamlNode node, ManifestReader r, byte[] functionMac)
    {
        if (r.Mapping(node, "netdevice") is not { } n) return null;
        r.Keys(n, "netdevice", NetDeviceKeys, []);
        var c = new NicConfig();
        int Int(string key, int fallback) => (int)(Ranged(n[key], r, "netdevice." + key, 0, int.MaxValue) ?? fallback);
        uint UInt(string key, uint fallback) => (uint)(Ranged(n[key], r, "netdevice." + key, 0, uint.MaxValue) ?? fallback);
        ushort UShort(string key, ushort fallback) => (ushort)(Ranged(n[key], r, "netdevice." + key, 0, ushort.MaxValue) ?? fallback);
        c = c with
        {
            RxDepth = Int("rx_depth", c.RxDepth), TxDepth = Int("tx_depth", c.TxDepth), RxThreshold = Int("rx_threshold", c.RxThreshold),
            MaxBufferParts = Int("max_buffer_parts", c.MaxBufferParts), BufferAlignment = UInt("buffer_alignment", c.BufferAlignment),
            MaxBufferLength = UInt("max_buffer_length", c.MaxBufferLength), MinRxBufferLength = UInt("min_rx_buffer_length", c.MinRxBufferLength),
            MinTxBufferLength = UInt("min_tx_buffer_length", c.MinTxBufferLength),
            MinTxBufferHead = UShort("min_tx_buffer_head", c.MinTxBufferHead), MinTxBufferTail = UShort("min_tx_buffer_tail", c.MinTxBufferTail),
        };
        if (n["rx_accel"] is { } ra) c = c with { RxAccel = [.. Names<RxAcceleration>(ra, r, "netdevice.rx_accel")] };
        if (n["tx_accel"] is { } ta) c = c with { TxAccel = [.. Names<TxAcceleration>(ta, r, "netdevice.tx_accel")] };
        if (n["ports"] is { } ports)
        {
            var list = ImmutableArray.CreateBuilder<PortConfig>();
            foreach (YamlNode item in r.Sequence(ports, "netdevice.ports")?.Items ?? [])
            {
                if (r.Mapping(item, "a netdevice port") is not { } p) continue;
                r.Keys(p, "a netdevice port", PortKeys, ["id"]);
                long id = r.Integer(p["id"], "port id") ?? 0;
                if (id is < 0 or > 255) { r.Error(p["id"]!, $"port id {id}: must be below {NetConstants.MAX_PORTS}"); continue; }
                var port = new PortConfig { Id = (byte)id };
                if (r.String(p["class"], "port class") is { } cls) port = port with { Class = Name<DeviceClass>(cls, p["class"]!, r) ?? port.Class };
                if (p["rx_types"] is { } rx) port = port with { RxTypes = [.. Names<FrameType>(rx, r, "port rx_types")] };
                if (p["tx_types"] is { } tx)
                {
                    var txs = ImmutableArray.CreateBuilder<FrameTypeSupport>();
                    foreach (YamlNode t in r.Sequence(tx, "port tx_types")?.Items ?? [])
                    {
                        if (r.Mapping(t, "a tx type") is not { } tm) continue;
                        r.Keys(tm, "a tx type", ["type", "features", "supported_flags"], ["type"]);
                        if (r.String(tm["type"], "tx type") is { } tn && Name<FrameType>(tn, tm["type"]!, r) is { } ft)
                            txs.Add(new FrameTypeSupport(ft, (uint)(Ranged(tm["features"], r, "tx type features", 0, uint.MaxValue) ?? 1), (uint)(Ranged(tm["supported_flags"], r, "tx type supported_flags", 0, uint.MaxValue) ?? 0)));
                    }
                    port = port with { TxTypes = txs.ToImmutable() };
                }
                if (r.String(p["mac"], "port mac") is { } macText)
                    port = port with { Mac = macText == "none" ? null : ParseMac(macText, p["mac"]!, r, "02:00:00:00:00:0d") ?? functionMac };
                else port = port with { Mac = functionMac };
                if (p["mac_modes"] is { } modes) port = port with { MacModes = [.. Names<MacFilterMode>(modes, r, "port mac_modes")] };
                if (Ranged(p["multicast_filter_count"], r, "port multicast_filter_count", 0, int.MaxValue) is { } mfc) port = port with { MulticastFilterCount = (int)mfc };
                if (Bool(p["online"], r, "port online") is { } online) port = port with { Online = online };
                if (Ranged(p["mtu"], r, "port mtu", 1, uint.MaxValue) is { } mtu) port = port with { Mtu = (uint)mtu };
                if (Bool(p["uplink"], r, "port uplink") is { } up) port = port with { Uplink = up };
                list.Add(port);
            }
            c = c with { Ports = list.ToImmutable() };
        }
        else c = c with { Ports = [new PortConfig { Id = 0, Mac = functionMac, Uplink = true }] };
        if (c.Validate() is { } bad)
        {
            r.Error(node, $"netdevice.{bad.Field}: {bad.Rule}");
            return null;
        }
        return c;
    }

    /// <summary>An integer that must lie in <paramref name="min"/>..<paramref name="max"/> (the field's type): never wrapped by a cast.</summary>
    private static long? Ranged(YamlNode? node, ManifestReader r, string what, long min, long max)
    {
        if (r.Integer(node, what) is not { } v) return null;
        if (v >= min && v <= max) return v;
        r.Error(node!, $"{what}: {v} is not {min}..{max}");
        return null;
    }

    private static IEnumerable<T> Names<T>(YamlNode node, ManifestReader r, string what) where T : struct, Enum
    {
        foreach (YamlNode item in r.Sequence(node, what)?.Items ?? [])
            if (r.String(item, what) is { } text && Name<T>(text, item, r) is { } value) yield return value;
    }

    private static T? Name<T>(string text, YamlNode at, ManifestReader r) where T : struct, Enum
    {
        if (Enum.TryParse(text, ignoreCase: false, out T value) && Enum.IsDefined(value) && !char.IsDigit(text[0])) return value;
        r.Error(at, $"'{text}' is not a {typeof(T).Name} (one of {string.Join(", ", Enum.GetNames<T>())})");
        return null;
    }

    private static bool? Bool(YamlNode? node, ManifestReader r, string what)
    {
        if (r.String(node, what) is not { } text) return null;
        if (text is "true" or "false") return text == "true";
        r.Error(node!, $"{what} must be true or false, got '{text}'");
        return null;
    }

    private static byte[]? ParseMac(string text, YamlNode at, ManifestReader r, string example)
    {
        if (!NicScript.Driver.Wire.MacAddress.TryParse(text, out byte[] mac))
        {
            r.Error(at, $"'{text}' is not a MAC address (expected {example})");
            return null;
        }
        if ((mac[0] & 1) != 0 || mac.All(b => b == 0))
        {
            r.Error(at, $"'{text}' is a {((mac[0] & 1) != 0 ? "multicast" : "zero")} address; a NIC's MAC is a unicast address (e.g. {example})");
            return null;
        }
        return mac;
    }

    private static readonly string[] FaultKeys = ["drop", "corrupt", "duplicate", "delay", "reorder", "seed", "delay_ms"];

    /// <summary>The longest delay a wire may hold frames for: held frames are memory, and a longer one is a typo.</summary>
    public const double MaxFaultDelayMs = 60_000;

    /// <summary>What is wrong with <paramref name="value"/> for the fault <paramref name="key"/>, or null when it is accepted.</summary>
    /// <remarks>One rule for the machine file's <c>faults</c> and <c>--faults</c>: rates are probabilities (0..1), the seed a
    /// whole number an <c>int</c> holds, <c>delay_ms</c> 0..<see cref="MaxFaultDelayMs"/>; NaN and infinities are never numbers here.</remarks>
    private static string? FaultProblem(string key, double value) => key switch
    {
        "seed" => value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue ? null : $"seed must be a whole number that fits 32 bits, got {value}",
        "delay_ms" => value is >= 0 and <= MaxFaultDelayMs ? null : $"delay_ms must be in [0, {MaxFaultDelayMs}], got {value}",
        _ => value is >= 0 and <= 1 ? null : $"{key} must be in [0, 1] (a rate), got {value}",
    };

    /// <summary>Fault settings from a map: drop, corrupt, duplicate, delay, reorder (rates 0..1), seed, delay_ms.</summary>
    internal static FaultSettings? ParseFaults(YamlNode node, ManifestReader r)
    {
        if (r.Mapping(node, "faults") is not { } f) return null;
        r.Keys(f, "faults", FaultKeys, []);
        bool ok = true;
        double Get(string key, double fallback)
        {
            if (f[key] is not { } at) return fallback;
            if (r.Number(at, "faults." + key) is not { } v) { ok = false; return fallback; }
            if (FaultProblem(key, v) is { } problem) { r.Error(at, "faults." + problem); ok = false; return fallback; }
            return v;
        }
        var settings = new FaultSettings(Get("drop", 0), Get("corrupt", 0), Get("duplicate", 0), Get("delay", 0), Get("reorder", 0),
            (int)Get("seed", 1), TimeSpan.FromMilliseconds(Get("delay_ms", 10)));
        return ok ? settings : null;
    }

    /// <summary>Fault settings from the command line: <c>drop=0.05,corrupt=0.01,seed=7,delay_ms=20</c>.</summary>
    /// <exception cref="UserErrorException">A part that is not name=number, an unknown or repeated name, a value out of its range.</exception>
    public static FaultSettings ParseFaults(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new UserErrorException($"--faults: '{part}' is not name=number");
            if (!FaultKeys.Contains(kv[0])) throw new UserErrorException($"--faults: unknown fault '{kv[0]}' ({string.Join(", ", FaultKeys)})");
            if (!values.TryAdd(kv[0], v)) throw new UserErrorException($"--faults: '{kv[0]}' is given twice");
            if (FaultProblem(kv[0], v) is { } problem) throw new UserErrorException("--faults: " + problem);
        }
        double Get(string key, double fallback) => values.TryGetValue(key, out double v) ? v : fallback;
        return new FaultSettings(Get("drop", 0), Get("corrupt", 0), Get("duplicate", 0), Get("delay", 0), Get("reorder", 0),
            (int)Get("seed", 1), TimeSpan.FromMilliseconds(Get("delay_ms", 10)));
    }
}
