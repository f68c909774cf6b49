using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>Reads a system file: <c>system {name, machine}</c> and the list of V-Node manifests to run together.</summary>
internal static class SystemFileParser
{
    /// <summary>A dotted IPv4 address (a /prefix is allowed and ignored).</summary>
    private static byte[]? Ipv4(YamlNode? node, ManifestReader r)
    {
        if (r.String(node, "an IPv4 address") is not { } text) return null;
        string[] parts = text.Split('/')[0].Split('.');
        if (parts.Length == 4 && parts.All(x => byte.TryParse(x, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
            return parts.Select(x => byte.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        r.Error(node!, $"'{text}' is not an IPv4 address");
        return null;
    }

    /// <summary>What a system file names, whatever else is wrong in it: the system (null when it has errors), the member
    /// manifests that exist and the machine file when it exists, so every one of them can be checked in the same pass.</summary>
    public sealed record Result(SystemManifest? System, ImmutableArray<SystemVNodeEntry> Members, string? MachinePath);

    public static Result Parse(YamlMapping top, ManifestReader r, string fullPath)
    {
        r.Mode = ManifestMode.Strict;
        string dir = Path.GetDirectoryName(fullPath)!;
        r.Keys(top, "the system file", ["system", "vnodes"], ["system", "vnodes"]);

        string? name = null, machine = null;
        PeerSpec? peer = null;
        if (r.Mapping(top["system"], "system") is { } sys)
        {
            r.Keys(sys, "system", ["name", "machine", "peer"], ["name"]);
            if (r.Mapping(sys["peer"], "system.peer") is { } p)
            {
                r.Keys(p, "system.peer", ["ipv4", "target", "packets", "rate"], ["ipv4", "target"]);
                byte[]? ip = Ipv4(p["ipv4"], r), target = Ipv4(p["target"], r);
                long packets = r.Integer(p["packets"], "system.peer.packets") ?? 1000;
                if (packets is < 1 or > 65535) r.Error(p["packets"]!, $"system.peer.packets must be 1..65535, got {packets}");
                double rate = r.Number(p["rate"], "system.peer.rate") ?? 0;
                if (rate < 0) r.Error(p["rate"]!, "system.peer.rate must not be negative");
                if (ip is not null && target is not null) peer = new PeerSpec(ip, target, (int)packets, rate);
            }
            name = r.String(sys["name"], "system.name");
            if (r.String(sys["machine"], "system.machine") is { } m)
            {
                machine = Path.GetFullPath(Path.Combine(dir, m));
                if (!File.Exists(machine))
                {
                    r.Error(sys["machine"]!, $"system.machine '{m}' not found (looked for {machine})");
                    machine = null;
                }
            }
        }

        var entries = ImmutableArray.CreateBuilder<SystemVNodeEntry>();
        if (r.Sequence(top["vnodes"], "vnodes") is { } list)
        {
            if (list.Items.Count == 0) r.Error(list, "vnodes must list at least one V-Node manifest");
            foreach (YamlNode item in list.Items)
            {
                YamlNode? pathNode = item;
                var settings = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
                if (item is YamlMapping map)
                {
                    r.Keys(map, "a vnodes entry", ["path", "settings"], ["path"]);
                    pathNode = map["path"];
                    if (r.Mapping(map["settings"], "settings") is { } set)
                        foreach (var (key, value) in set.Entries)
                            if (r.String(value, "settings." + key.Value) is { } v) settings[key.Value] = v;
                }
                if (pathNode is null || r.String(pathNode, "a vnodes entry") is not { } rel) continue;
                string full = Path.GetFullPath(Path.Combine(dir, rel));
                if (!File.Exists(full)) r.Error(pathNode, $"V-Node manifest '{rel}' not found (looked for {full})");
                else if (entries.Any(e => e.ManifestPath == full)) r.Error(pathNode, $"V-Node manifest '{rel}' is listed twice");
                else entries.Add(new SystemVNodeEntry(full, r.At(pathNode), settings.ToImmutable()));
            }
        }

        if (r.HasErrors || name is null) return new Result(null, entries.ToImmutable(), machine);
        return new Result(new SystemManifest(fullPath, name, machine, entries.ToImmutable(), [.. r.Problems.Where(p => p.Severity == ProblemSeverity.Warning)]) { Peer = peer },
            entries.ToImmutable(), machine);
    }
}
