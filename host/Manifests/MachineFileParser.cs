using System.Collections.Immutable;
using System.Globalization;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Host.Manifests;

/// <summary>Reads a machine file (<c>machine</c>, <c>wires</c>, <c>devices</c>); every problem with file:line:col.</summary>
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
        r.Keys(top, "the machine file", ["machine", "wires", "devices", "dpu"], ["machine", "wires", "devices"]);
        string name = "machine";
        if (r.Mapping(top["machine"], "machine") is { } m)
        {
            r.Keys(m, "machine", ["name"], ["name"]);
            name = r.String(m["name"], "machine.name") ?? name;
        }
        string dir = System.IO.Path.GetDirectoryName(full)!;
        var wires = ImmutableArray.CreateBuilder<WireSpec>();
        foreach (YamlNode item in r.Sequence(top["wires"], "wires")?.Items ?? [])
        {
            if (r.Mapping(item, "a wire") is not { } w) continue;
            r.Keys(w, "a wire", ["name", "type", "ifname", "ports", "pcap", "faults"], ["name", "type"]);
            string? wname = r.String(w["name"], "wire name"), type = r.String(w["type"], "wire type");
            if (type is not null && !WireTypes.Contains(type)) r.Error(w["type"]!, $"wire type '{type}' is not one of {string.Join(", ", WireTypes)}");
            string? ifname = r.String(w["ifname"], "wire ifname");
            if (type == "tap" && ifname is null) r.Error(w, "a tap wire needs ifname");
            int ports = (int)(r.Integer(w["ports"], "wire ports") ?? 16);
            string? pcap = r.String(w["pcap"], "wire pcap") is { } p ? System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, p)) : null;
            FaultSettings? faults = w["faults"] is { } f ? ParseFaults(f, r) : null;
            if (wname is not null && wires.Any(x => x.Name == wname)) r.Error(w["name"]!, $"wire '{wname}' is defined twice");
            if (wname is not null && type is not null) wires.Add(new WireSpec(wname, type, ifname, ports, pcap, faults, r.At(w)));
        }
        var devices = ImmutableArray.CreateBuilder<DeviceSpec>();
        foreach (YamlNode item in r.Sequence(top["devices"], "devices")?.Items ?? [])
        {
            if (r.Mapping(item, "a device") is not { } d) continue;
            r.Keys(d, "a device", ["type", "address", "irq", "mac", "wire", "netdevice", "ipv4", "rdma"], ["type", "address", "irq", "wire"]);
            string? type = r.String(d["type"], "device type");
            if (type is not null && type != "virtio-net") r.Error(d["type"]!, $"device type '{type}' is not known (expected virtio-net)");
            PciAddress? address = null;
            if (r.String(d["address"], "device address") is { } a)
            {
                if (PciAddress.TryParse(a, out PciAddress parsed, out string? error)) address = parsed;
                else r.Error(d["address"]!, error!);
            }
            long? irq = r.Integer(d["irq"], "device irq");
            if (irq is < 0 or > 31) r.Error(d["irq"]!, $"device irq {irq}: INTx lines are 0-31");
            byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, (byte)(0x56 + devices.Count)];
            if (r.String(d["mac"], "device mac") is { } macText) mac = ParseMac(macText, d["mac"]!, r, "52:54:00:12:34:56") ?? mac;
            string? wire = r.String(d["wire"], "device wire");
            if (wire is not null && !wires.Any(w => w.Name == wire)) r.Error(d["wire"]!, $"wire '{wire}' is not defined in wires");
            if (address is { } ad && devices.Any(x => x.Address == ad)) r.Error(d["address"]!, $"PCI address {ad} is taken");
            NicConfig? netdevice = d["netdevice"] is { } nd ? ParseNetDevice(nd, r, mac) : null;
            System.Net.IPAddress? ipv4 = null;
            if (r.String(d["ipv4"], "device ipv4") is { } ipText)
            {
                if (System.Net.IPAddress.TryParse(ipText, out System.Net.IPAddress? ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ipv4 = ip;
                else r.Error(d["ipv4"]!, $"'{ipText}' is not an IPv4 address");
            }
            bool rdma = Bool(d["rdma"], r, "device rdma") ?? false;
            if (rdma && ipv4 is null && d["ipv4"] is null) r.Error(d, "an RDMA device takes its function's address: give the device an ipv4");
            if (type is not null && address is not null && irq is not null && wire is not null)
                devices.Add(new DeviceSpec(type, address.Value, (int)irq, mac, wire, r.At(d)) { NetDevice = netdevice, Ipv4 = ipv4, Rdma = rdma });
        }
        return new MachineSpec(full, name, wires.ToImmutable(), devices.ToImmutable()) { Dpu = top["dpu"] is { } dpu ? ParseDpu(dpu, r) : null };
    }

    private static readonly string[] DpuKeys =
    [
        "elastic_nic_slots", "vdisk_slots", "max_qpair", "max_queue", "max_queue_depth", "meter_table", "classifier_table", "soc_ports", "soc_queues",
        "optical_ports", "optical_speed_mbps", "optical_queues", "optical_mtu", "max_sectors",
    ];

    /// <summary>The machine's DPU sizes (reference/dpu.md §5.1); each key optional, each at least 1.</summary>
    internal static NicScript.Driver.Devices.Dpu.DpuConfig? ParseDpu(YamlNode node, ManifestReader r)
    {
        if (r.Mapping(node, "dpu") is not { } d) return null;
        r.Keys(d, "dpu", DpuKeys, []);
        var c = new NicScript.Driver.Devices.Dpu.DpuConfig();
        long Get(string key, long fallback, long max)
        {
            long v = r.Integer(d[key], "dpu." + key) ?? fallback;
            if (v < 1 || v > max) r.Error(d[key]!, $"dpu.{key}: {v} is not 1..{max}");
            return v;
        }
        return c with
        {
            ElasticNicSlots = (int)Get("elastic_nic_slots", c.ElasticNicSlots, 256), VdiskSlots = (int)Get("vdisk_slots", c.VdiskSlots, 256),
            MaxQpair = (int)Get("max_qpair", c.MaxQpair, 256), MaxQueue = (int)Get("max_queue", c.MaxQueue, 256),
            MaxQueueDepth = (int)Get("max_queue_depth", c.MaxQueueDepth, 32768), MeterTable = (int)Get("meter_table", c.MeterTable, 1 << 20),
            ClassifierTable = (int)Get("classifier_table", c.ClassifierTable, 1 << 20), SocPorts = (int)Get("soc_ports", c.SocPorts, 16),
            SocQueues = (int)Get("soc_queues", c.SocQueues, 16), OpticalPorts = (int)Get("optical_ports", c.OpticalPorts, 16),
            OpticalSpeedMbps = (uint)Get("optical_speed_mbps", c.OpticalSpeedMbps, 400_000), OpticalQueues = (int)Get("optical_queues", c.OpticalQueues, 16),
            OpticalMtu = (uint)Get("optical_mtu", c.OpticalMtu, NicScript.Driver.Devices.Dpu.DpuConfig.MaxMtu), MaxSectors = (ulong)Get("max_sectors", (long)c.MaxSectors, 1L << 40),
        };
    }

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
        int Int(string key, int fallback) => (int)(r.Integer(n[key], "netdevice." + key) ?? fallback);
        c = c with
        {
            RxDepth = Int("rx_depth", c.RxDepth), TxDepth = Int("tx_depth", c.TxDepth), RxThreshold = Int("rx_threshold", c.RxThreshold),
            MaxBufferParts = Int("max_buffer_parts", c.MaxBufferParts), BufferAlignment = (uint)Int("buffer_alignment", (int)c.BufferAlignment),
            MaxBufferLength = (uint)Int("max_buffer_length", (int)c.MaxBufferLength), MinRxBufferLength = (uint)Int("min_rx_buffer_length", (int)c.MinRxBufferLength),
            MinTxBufferLength = (uint)Int("min_tx_buffer_length", (int)c.MinTxBufferLength),
            MinTxBufferHead = (ushort)Int("min_tx_buffer_head", c.MinTxBufferHead), MinTxBufferTail = (ushort)Int("min_tx_buffer_tail", c.MinTxBufferTail),
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
                            txs.Add(new FrameTypeSupport(ft, (uint)(r.Integer(tm["features"], "tx type features") ?? 1), (uint)(r.Integer(tm["supported_flags"], "tx type supported_flags") ?? 0)));
                    }
                    port = port with { TxTypes = txs.ToImmutable() };
                }
                if (r.String(p["mac"], "port mac") is { } macText)
                    port = port with { Mac = macText == "none" ? null : ParseMac(macText, p["mac"]!, r, "02:00:00:00:00:0d") ?? functionMac };
                else port = port with { Mac = functionMac };
                if (p["mac_modes"] is { } modes) port = port with { MacModes = [.. Names<MacFilterMode>(modes, r, "port mac_modes")] };
                if (r.Integer(p["multicast_filter_count"], "port multicast_filter_count") is { } mfc) port = port with { MulticastFilterCount = (int)mfc };
                if (Bool(p["online"], r, "port online") is { } online) port = port with { Online = online };
                if (r.Integer(p["mtu"], "port mtu") is { } mtu) port = port with { Mtu = (uint)mtu };
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
        if (NicScript.Driver.Wire.MacAddress.TryParse(text, out byte[] mac)) return mac;
        r.Error(at, $"'{text}' is not a MAC address (expected {example})");
        return null;
    }

    /// <summary>Fault settings from a map: drop, corrupt, duplicate, delay, reorder (rates 0..1), seed, delay_ms.</summary>
    internal static FaultSettings? ParseFaults(YamlNode node, ManifestReader r)
    {
        if (r.Mapping(node, "faults") is not { } f) return null;
        r.Keys(f, "faults", ["drop", "corrupt", "duplicate", "delay", "reorder", "seed", "delay_ms"], []);
        double Rate(string key)
        {
            double v = r.Number(f[key], "faults." + key) ?? 0;
            if (v is < 0 or > 1) r.Error(f[key]!, $"faults.{key} must be in [0, 1], got {v}");
            return v;
        }
        var settings = new FaultSettings(Rate("drop"), Rate("corrupt"), Rate("duplicate"), Rate("delay"), Rate("reorder"),
            (int)(r.Integer(f["seed"], "faults.seed") ?? 1), TimeSpan.FromMilliseconds(r.Number(f["delay_ms"], "faults.delay_ms") ?? 10));
        return settings;
    }

    /// <summary>Fault settings from the command line: <c>drop=0.05,corrupt=0.01,seed=7,delay_ms=20</c>.</summary>
    public static FaultSettings ParseFaults(string text)
    {
        double drop = 0, corrupt = 0, dup = 0, delay = 0, reorder = 0, delayMs = 10;
        int seed = 1;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=', 2);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new UserErrorException($"--faults: '{part}' is not name=number");
            switch (kv[0])
            {
                case "drop": drop = v; break;
                case "corrupt": corrupt = v; break;
                case "duplicate": dup = v; break;
                case "delay": delay = v; break;
                case "reorder": reorder = v; break;
                case "seed": seed = (int)v; break;
                case "delay_ms": delayMs = v; break;
                default: throw new UserErrorException($"--faults: unknown fault '{kv[0]}' (drop, corrupt, duplicate, delay, reorder, seed, delay_ms)");
            }
        }
        var s = new FaultSettings(drop, corrupt, dup, delay, reorder, seed, TimeSpan.FromMilliseconds(delayMs));
        if (s.Validate() is { } problem) throw new UserErrorException("--faults: " + problem);
        return s;
    }
}
