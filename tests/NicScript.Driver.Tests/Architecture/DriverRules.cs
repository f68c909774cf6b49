using System.Text.RegularExpressions;

namespace NicScript.Driver.Tests.Architecture;

/// <summary>The driver's arrows (DESIGN §2, STYLE §0, issue 19): which namespace may name which, and what no driver
/// type may name at all. <see cref="Check"/> turns <see cref="Dependency"/> rows into violations, each one line
/// <c>Type -&gt; Type (rule)</c>.</summary>
/// <remarks>
/// Design: the layers, bottom first (a namespace may name its own types and those of layers below it, never above):
/// <list type="number">
/// <item><c>Time</c> (the clock), <c>Memory</c> (DMA memory, IOMMU, frame pools), <c>Pci</c> (functions, config
/// space, BARs), <c>Interrupts</c> (INTx lines, the MSI-X table, which is a PCI capability), <c>Queues</c> (rings
/// shared by families), <c>Wire</c> (links, frames, pcap) — one above the other in that order, the order the code has:
/// Interrupts names Pci (the MSI-X capability), Queues and Wire name Memory, nothing below names Wire;</item>
/// <item><c>Devices</c> (the device-model contract every family implements), then <c>Devices.Virtio</c> (the virtio
/// PCI transport and split queues net and blk share);</item>
/// <item>the families <c>Devices.&lt;Family&gt;</c> (VirtioNet, VirtioBlk, Mana, Rdma, Dpu and any new folder; a
/// family's sub-namespaces, such as <c>Mana.Gdma</c>, are the family): one layer, and no family names another;</item>
/// <item><c>VfioUser</c> (the vfio-user server that exports any function to a guest: it takes the device-model
/// contract and never a family), then <c>NetDevice</c> (the Fuchsia-style netdevice layer over any NIC), then the root <c>NicScript.Driver</c>
/// (<c>Machine</c>, which assembles everything) at the top. The rule for the top is its own: "machine".</item>
/// </list>
/// Between namespaces that the layers allow to meet (a family and its sub-namespaces) there are no cycles.
/// <see cref="Markers"/> are attributes every layer may carry. No driver type names a script engine, a JavaScript
/// shape (<c>dynamic</c>, <c>System.Dynamic</c>, a string-to-object dictionary) or a script capability: the words of a
/// capability decision (grant, denied, denial) in a name, a <c>Capability…</c> type outside <c>Pci</c> (SR-IOV, MSI-X
/// and the config-space list are PCI capabilities, facts of the bus, and keep the name), or a string naming one
/// (<c>CAP_…</c>, "capability-denied").
/// </remarks>
public static class DriverRules
{
    public const string Root = "NicScript.Driver";

    /// <summary>The bottom layers, lowest first: each may name only those before it.</summary>
    public static readonly IReadOnlyList<string> Bottom = ["Time", "Memory", "Pci", "Interrupts", "Queues", "Wire"];

    /// <summary>Folders under <c>Devices</c> that are shared transports, not families.</summary>
    public static readonly IReadOnlyList<string> Transports = ["Virtio"];

    /// <summary>Types any layer may name: markers with no behaviour, read by the host.</summary>
    public static readonly IReadOnlySet<string> Markers = new HashSet<string> { Root + ".ScriptApiAttribute" };

    private const int VfioUserRank = 80;

    private static readonly string[] Engines = ["Jint", "Esprima", "Acornima", "Microsoft.CodeAnalysis", "Microsoft.ClearScript"];

    /// <summary>The compiler embeds this attribute into every assembly that uses nullable or ref-safety metadata.</summary>
    private const string CompilerEmbedded = "Microsoft.CodeAnalysis.EmbeddedAttribute";

    private static readonly Regex JavaScriptShape = new(
        @"^(System\.Dynamic\.|Microsoft\.CSharp\.RuntimeBinder\.|System\.Runtime\.CompilerServices\.DynamicAttribute$)" +
        @"|^System\.Collections\.(Generic|Concurrent|Immutable|Frozen)\.(I?ReadOnly|I?Immutable|Frozen|Concurrent|I)?Dictionary<System\.String,System\.Object>$",
        RegexOptions.CultureInvariant);

    private static readonly Regex CapabilityWord = new(@"grant|denied|denial", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex CapabilityLiteral = new(@"\bCAP_[A-Z]|capability[- ]denied", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Every violation among <paramref name="dependencies"/>, sorted, each once.</summary>
    public static IReadOnlyList<string> Check(IEnumerable<Dependency> dependencies)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        var allowed = new HashSet<(string From, string To, string FromType, string ToType)>();
        foreach (Dependency d in dependencies)
        {
            string? rule = d.Kind switch
            {
                DependencyKind.Member => CapabilityWord.IsMatch(d.To) ? "capability" : null,
                DependencyKind.Literal => CapabilityLiteral.IsMatch(d.To) ? "capability" : null,
                _ => TypeRule(d, allowed),
            };
            if (rule is not null) violations.Add($"{d.From} -> {(d.Kind == DependencyKind.Literal ? Quote(d.To) : d.To)} ({rule})");
        }
        foreach (string cycle in Cycles(allowed)) violations.Add(cycle);
        return violations.ToList();
    }

    /// <summary>The layer of a driver namespace (higher may name lower), the family it belongs to, or null when no layer holds it.</summary>
    public static (int Rank, string? Family)? Layer(string ns)
    {
        if (ns == Root) return (100, null);
        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal)) return null;
        string[] parts = ns[(Root.Length + 1)..].Split('.');
        if (parts[0] == "NetDevice") return (90, null);
        if (parts[0] == "VfioUser") return (VfioUserRank, null);
        if (parts[0] == "Devices")
        {
            if (parts.Length == 1) return (50, null);
            if (Transports.Contains(parts[1])) return (60 + Transports.ToList().IndexOf(parts[1]), null);
            return (70, parts[1]);
        }
        int bottom = Bottom.ToList().IndexOf(parts[0]);
        return bottom < 0 ? null : (10 + bottom, null);
    }

    /// <summary>The namespace of a type's full name (<c>A.B.C+Nested</c> is in <c>A.B</c>).</summary>
    public static string NamespaceOf(string type)
    {
        int generic = type.IndexOfAny(['<', '`', '+', '[']);
        string outer = generic < 0 ? type : type[..generic];
        int dot = outer.LastIndexOf('.');
        return dot < 0 ? "" : outer[..dot];
    }

    private static string? TypeRule(Dependency d, HashSet<(string, string, string, string)> allowed)
    {
        string to = d.To;
        if (Engines.Any(e => to.StartsWith(e + ".", StringComparison.Ordinal)) && to != CompilerEmbedded) return "script engine";
        if (JavaScriptShape.IsMatch(to)) return "javascript shape";
        if (to.Contains('<', StringComparison.Ordinal)) return null; // a constructed generic: its parts are rows of their own
        string toNs = NamespaceOf(to), simple = to[(to.LastIndexOfAny(['.', '+']) + 1)..];
        if (simple.StartsWith("Capabilit", StringComparison.Ordinal) && toNs != Root + ".Pci") return "capability";
        if (!to.StartsWith(Root + ".", StringComparison.Ordinal) || Markers.Contains(to)) return null;
        string fromNs = NamespaceOf(d.From);
        if (fromNs == toNs) return null;
        if (Layer(fromNs) is not { } from) return "unplaced";
        if (Layer(toNs) is not { } target) return "unplaced";
        if (target.Rank == 100) return "machine";
        if (from.Family is not null && target.Family is not null && from.Family != target.Family) return "families";
        if (from.Rank == VfioUserRank && target.Family is not null) return "families"; // it exports any function, so it may name none
        if (target.Rank > from.Rank) return "layers";
        if (target.Rank == from.Rank && from.Family is null) return "layers";
        allowed.Add((fromNs, toNs, d.From, to));
        return null;
    }

    /// <summary>Edges the layers allow that still close a cycle between two namespaces (a family and its sub-namespace).</summary>
    private static IEnumerable<string> Cycles(HashSet<(string From, string To, string FromType, string ToType)> allowed)
    {
        var next = allowed.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToHashSet());
        bool Reaches(string a, string b)
        {
            var seen = new HashSet<string> { a };
            var todo = new Stack<string>([a]);
            while (todo.TryPop(out string? n))
                foreach (string m in next.GetValueOrDefault(n) ?? [])
                {
                    if (m == b) return true;
                    if (seen.Add(m)) todo.Push(m);
                }
            return false;
        }
        foreach (var e in allowed)
            if (e.From != e.To && Reaches(e.To, e.From)) yield return $"{e.FromType} -> {e.ToType} (cycle)";
    }

    private static string Quote(string literal) => "\"" + literal.Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
