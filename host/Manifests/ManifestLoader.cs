using System.Collections.Immutable;
using System.Text.RegularExpressions;
using NicScript.Driver.Pci;

namespace NicScript.Host.Manifests;

/// <summary>Loads <c>vnode.yml</c> and system files into validated records, or lists every problem with its place.</summary>
public static partial class ManifestLoader
{
    public const int MaxIrq = 255, MaxMemMb = 4096;

    private static readonly string[] TopKeys = ["vnode", "runtime", "capabilities", "storage", "observability", "settings"];
    private static readonly string[] VNodeKeys = ["name", "version", "maintainer", "mode"];
    private static readonly string[] RuntimeKeys = ["entrypoint", "required_mem_mb", "max_cpu_share"];

    /// <summary>Loads a V-Node manifest or a system file, by its top-level key.</summary>
    /// <exception cref="ManifestException">Every error found, in file order.</exception>
    public static ManifestDocument Load(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        return ParseDocument(ReadFile(path, full), path, full);
    }

    public static VNodeManifest LoadVNode(string path) => Load(path) switch
    {
        VNodeManifest v => v,
        _ => throw Single(path, "expected a V-Node manifest (top-level key 'vnode'), got a system file"),
    };

    public static SystemManifest LoadSystem(string path) => Load(path) switch
    {
        SystemManifest s => s,
        _ => throw Single(path, "expected a system file (top-level key 'system'), got a V-Node manifest"),
    };

    /// <summary>Parses <paramref name="text"/> as if it were the file at <paramref name="path"/> (relative paths resolve from its folder).</summary>
    public static VNodeManifest LoadVNodeFromText(string text, string path) => ParseDocument(text, path, System.IO.Path.GetFullPath(path)) switch
    {
        VNodeManifest v => v,
        _ => throw Single(path, "expected a V-Node manifest (top-level key 'vnode')"),
    };

    private static string ReadFile(string path, string full)
    {
        try { return InputFile.ReadText(full, InputFile.MaxYamlBytes, "YAML files"); }
        catch (InputFileException e) { throw Single(path, e.Reason); }
    }

    private static ManifestException Single(string path, string message) =>
        new([new ManifestProblem(SourceSpan.None(path), message, ProblemSeverity.Error)]);

    private static ManifestDocument ParseDocument(string text, string shownPath, string fullPath)
    {
        FileResult result = ParseFile(text, shownPath, fullPath);
        return result.Document ?? throw new ManifestException(result.Problems);
    }

    /// <summary>One file read whatever is wrong with it: its document (null when it has an error), every problem found in
    /// it, and — for a system file — the member manifests and the machine file it names that exist.</summary>
    internal sealed record FileResult(ManifestDocument? Document, ImmutableArray<ManifestProblem> Problems,
        ImmutableArray<SystemVNodeEntry> Members, string? MachinePath);

    /// <summary>Reads <paramref name="path"/> (shown as given) without throwing: a file that cannot be read is one problem.</summary>
    internal static FileResult Read(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string text;
        try { text = ReadFile(path, full); }
        catch (ManifestException e) { return new FileResult(null, e.Problems, [], null); }
        return ParseFile(text, path, full);
    }

    private static FileResult ParseFile(string text, string shownPath, string fullPath)
    {
        var r = new ManifestReader(shownPath);
        YamlNode? root = YamlTreeReader.Read(text, shownPath, r.Problems);
        ManifestDocument? doc = null;
        ImmutableArray<SystemVNodeEntry> members = [];
        string? machine = null;
        if (root is not null)
        {
            if (r.Mapping(root, "the manifest") is { } map)
            {
                if (map["system"] is not null) (doc, members, machine) = SystemFileParser.Parse(map, r, fullPath);
                else if (map["vnode"] is not null) doc = ParseVNode(map, r, fullPath);
                else r.Error(map, "expected a top-level 'vnode' (a V-Node manifest) or 'system' (a system file)");
            }
        }
        if (r.HasErrors) doc = null;
        if (doc is null && !r.HasErrors) r.Problems.Add(new(SourceSpan.None(shownPath), "invalid manifest", ProblemSeverity.Error));
        return new FileResult(doc, [.. r.Problems], members, machine);
    }

    private static VNodeManifest? ParseVNode(YamlMapping top, ManifestReader r, string fullPath)
    {
        // Mode first: strictness applies to the whole file. A missing or bad mode leaves it strict.
        YamlMapping? vnode = r.Mapping(top["vnode"], "vnode");
        ManifestMode mode = ManifestMode.Strict;
        if (vnode?["mode"] is YamlScalar { Value: "permissive" }) mode = ManifestMode.Permissive;
        r.Mode = mode;

        r.Keys(top, "the manifest", TopKeys, ["vnode", "runtime", "capabilities"]);

        string? name = null, version = null, maintainer = null;
        if (vnode is not null)
        {
            r.Keys(vnode, "vnode", VNodeKeys, ["name", "version", "mode"]);
            name = r.String(vnode["name"], "vnode.name");
            if (name is not null && !VNodeName().IsMatch(name))
                r.Error(vnode["name"]!, $"vnode.name '{name}' must be lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters");
            version = r.String(vnode["version"], "vnode.version");
            if (version is not null && !Version().IsMatch(version))
                r.Error(vnode["version"]!, $"vnode.version '{version}' is not a version (expected X.Y.Z, e.g. \"0.1.0\")");
            maintainer = r.String(vnode["maintainer"], "vnode.maintainer");
            if (vnode["mode"] is { } m && r.String(m, "vnode.mode") is { } ms && ms is not ("strict" or "permissive"))
                r.Error(m, $"vnode.mode '{ms}' is not a mode (expected strict or permissive)");
        }

        RuntimeSpec? runtime = ParseRuntime(r.Mapping(top["runtime"], "runtime"), r, fullPath);
        ImmutableArray<CapabilityGrant> grants = ParseCapabilities(top["capabilities"], r);
        ImmutableArray<string> mounts = ParseStorage(top["storage"], r);
        ImmutableArray<string> metrics = ParseObservability(top["observability"], r);
        var settings = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (r.Mapping(top["settings"], "settings") is { } set)
            foreach (var (key, value) in set.Entries)
                if (r.String(value, "settings." + key.Value) is { } v) settings[key.Value] = v;

        if (r.HasErrors || name is null || version is null || runtime is null) return null;
        return new VNodeManifest(fullPath, name, version, maintainer, mode, runtime, grants, mounts, metrics,
            [.. r.Problems.Where(p => p.Severity == ProblemSeverity.Warning)]) { Settings = settings.ToImmutable() };
    }

    private static RuntimeSpec? ParseRuntime(YamlMapping? rt, ManifestReader r, string fullPath)
    {
        if (rt is null) return null;
        r.Keys(rt, "runtime", RuntimeKeys, RuntimeKeys);

        string? entry = r.String(rt["entrypoint"], "runtime.entrypoint");
        string? entryPath = null;
        ScriptLanguage language = default;
        if (entry is not null)
        {
            string ext = System.IO.Path.GetExtension(entry);
            if (ext == ".js") language = ScriptLanguage.JavaScript;
            else if (ext == ".csx") language = ScriptLanguage.CSharp;
            else r.Error(rt["entrypoint"]!, $"unknown script language '{(ext.Length == 0 ? entry : ext)}' for runtime.entrypoint (expected .js or .csx)");
            entryPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(fullPath)!, entry));
            if (ext is ".js" or ".csx" && !File.Exists(entryPath))
                r.Error(rt["entrypoint"]!, $"runtime.entrypoint '{entry}' not found (looked for {entryPath})");
        }

        long? mem = r.Integer(rt["required_mem_mb"], "runtime.required_mem_mb");
        if (mem is <= 0 or > MaxMemMb)
            r.Error(rt["required_mem_mb"]!, $"runtime.required_mem_mb must be a positive integer up to {MaxMemMb}, got {mem}");

        double? share = r.Number(rt["max_cpu_share"], "runtime.max_cpu_share");
        if (share is { } s && !(s > 0 && s <= 1))
            r.Error(rt["max_cpu_share"]!, $"runtime.max_cpu_share must be in (0, 1], got {((YamlScalar)rt["max_cpu_share"]!).Value}");

        if (entry is null || entryPath is null || mem is null || share is null) return null;
        return new RuntimeSpec(entry, entryPath, language, (int)mem, share.Value);
    }

    private static ImmutableArray<CapabilityGrant> ParseCapabilities(YamlNode? node, ManifestReader r)
    {
        var grants = ImmutableArray.CreateBuilder<CapabilityGrant>();
        if (r.Sequence(node, "capabilities") is not { } list) return grants.ToImmutable();
        foreach (YamlNode item in list.Items)
        {
            YamlScalar nameNode;
            YamlNode? value = null;
            if (item is YamlScalar bare && !bare.IsNull) nameNode = bare;
            else if (item is YamlMapping { Entries.Count: 1 } one) (nameNode, value) = (one.Entries[0].Key, one.Entries[0].Value);
            else
            {
                r.Error(item, item is YamlMapping
                    ? "a capability map must have exactly one key (e.g. CAP_IRQ_REGISTER: 11)"
                    : $"expected a capability name or a single-key map, got {item.Describe}");
                continue;
            }

            if (!CapabilityNames.TryParse(nameNode.Value, out CapabilityKind kind))
            {
                r.Unknown(nameNode, $"unknown capability '{nameNode.Value}' (known: {string.Join(", ", CapabilityNames.All)})");
                continue;
            }
            foreach (CapabilityGrant g in ParseGrant(kind, nameNode, value, r))
            {
                if (grants.Any(x => x.Kind == g.Kind && x.Pci == g.Pci && x.Irq == g.Irq))
                {
                    r.Warn(nameNode, $"duplicate grant {g}");
                    continue;
                }
                grants.Add(g);
            }
        }
        return grants.ToImmutable();
    }

    private static IEnumerable<CapabilityGrant> ParseGrant(CapabilityKind kind, YamlScalar nameNode, YamlNode? value, ManifestReader r)
    {
        string name = nameNode.Value;
        SourceSpan at = r.At(nameNode);
        switch (CapabilityNames.ValueOf(kind))
        {
            case CapabilityNames.ValueKind.None:
                if (value is not null && !(value is YamlScalar { IsNull: true }))
                    r.Error(value, $"{name} takes no value (write it as a bare name: - {name})");
                else yield return new CapabilityGrant(kind, null, null, at);
                break;

            case CapabilityNames.ValueKind.PciAddress:
                if (value is null || value is YamlScalar { IsNull: true })
                    r.Error(nameNode, $"{name} needs a PCI address, e.g. {name}: \"0x00:0x1F:0x0\"");
                else if (value is not YamlScalar pci || pci.TryInt(out _))
                    r.Error(value, $"expected a PCI address string for {name}, got {value.Describe}");
                else if (!PciAddress.TryParse(pci.Value, out PciAddress address, out string? error))
                    r.Error(value, $"{name}: {error}");
                else yield return new CapabilityGrant(kind, address, null, at);
                break;

            case CapabilityNames.ValueKind.Irq:
                IEnumerable<YamlNode> lines = value is YamlSequence seq ? seq.Items : value is null ? [] : [value];
                if (value is null || value is YamlScalar { IsNull: true })
                    r.Error(nameNode, $"{name} needs an IRQ line, e.g. {name}: 11");
                foreach (YamlNode line in lines)
                {
                    long? irq = r.Integer(line, name);
                    if (irq is null) continue;
                    if (irq is < 0 or > MaxIrq) r.Error(line, $"{name}: IRQ {irq} out of range 0-{MaxIrq}");
                    else yield return new CapabilityGrant(kind, null, (int)irq, at);
                }
                break;
        }
    }

    private static ImmutableArray<string> ParseStorage(YamlNode? node, ManifestReader r)
    {
        if (r.Mapping(node, "storage") is not { } storage) return [];
        r.Keys(storage, "storage", ["mounts"], []);
        if (r.Sequence(storage["mounts"], "storage.mounts") is not { } mounts) return [];
        return [.. mounts.Items.Select(m => r.String(m, "storage.mounts")).OfType<string>()];
    }

    private static ImmutableArray<string> ParseObservability(YamlNode? node, ManifestReader r)
    {
        if (r.Mapping(node, "observability") is not { } obs) return [];
        r.Keys(obs, "observability", ["metrics"], []);
        if (r.Sequence(obs["metrics"], "observability.metrics") is not { } list) return [];
        var names = ImmutableArray.CreateBuilder<string>();
        foreach (YamlNode item in list.Items)
        {
            if (r.String(item, "observability.metrics") is not { } n) continue;
            if (!MetricName().IsMatch(n)) r.Error(item, $"metric name '{n}' must match [a-z_][a-z0-9_]*");
            else if (names.Contains(n)) r.Error(item, $"metric '{n}' is declared twice");
            else names.Add(n);
        }
        return names.ToImmutable();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex VNodeName();

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex Version();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex MetricName();
}
