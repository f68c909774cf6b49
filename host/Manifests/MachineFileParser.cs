using System.Collections.Immutable;
using System.Globalization;
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
        string text;
        try { text = File.ReadAllText(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException([new ManifestProblem(SourceSpan.None(path), e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message, ProblemSeverity.Error)]);
        }
        var r = new ManifestReader(path);
        YamlNode? root = YamlTreeReader.Read(text, path, r.Problems);
        MachineSpec? spec = root is null ? null : Parse(root, r, full);
        if (r.HasErrors || spec is null) throw new ManifestException([.. r.Problems]);
        return spec;
    }

    private static MachineSpec? Parse(YamlNode root, ManifestReader r, string full)
    {
        if (r.Mapping(root, "the machine file") is not { } top) return null;
        r.Keys(top, "the machine file", ["machine", "wires", "devices"], ["machine", "wires", "devices"]);
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
            r.Keys(d, "a device", ["type", "address", "irq", "mac", "wire"], ["type", "address", "irq", "wire"]);
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
            if (r.String(d["mac"], "device mac") is { } macText)
            {
                string[] parts = macText.Split(':');
                if (parts.Length != 6 || !parts.All(p => byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _)))
                    r.Error(d["mac"]!, $"'{macText}' is not a MAC address (expected 52:54:00:12:34:56)");
                else mac = parts.Select(p => byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
            }
            string? wire = r.String(d["wire"], "device wire");
            if (wire is not null && !wires.Any(w => w.Name == wire)) r.Error(d["wire"]!, $"wire '{wire}' is not defined in wires");
            if (address is { } ad && devices.Any(x => x.Address == ad)) r.Error(d["address"]!, $"PCI address {ad} is taken");
            if (type is not null && address is not null && irq is not null && wire is not null)
                devices.Add(new DeviceSpec(type, address.Value, (int)irq, mac, wire, r.At(d)));
        }
        return new MachineSpec(full, name, wires.ToImmutable(), devices.ToImmutable());
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
