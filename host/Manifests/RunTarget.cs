using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>What <c>run</c> and <c>check</c> were pointed at: one V-Node manifest, or a system and the V-Nodes it lists.</summary>
public sealed record RunTarget(ManifestDocument Document, ImmutableArray<VNodeManifest> VNodes)
{
    public string Name => Document is SystemManifest s ? s.Name : VNodes[0].Name;

    /// <summary>Warnings of the document and of every V-Node manifest.</summary>
    public IEnumerable<ManifestProblem> Warnings => Document.Warnings.Concat(Document is SystemManifest ? VNodes.SelectMany(v => v.Warnings) : []);

    /// <summary>Loads <paramref name="path"/> and, for a system, each manifest it lists; every problem of every file is reported.</summary>
    /// <exception cref="ManifestException">Any file has an error.</exception>
    public static RunTarget Load(string path)
    {
        ManifestDocument doc = ManifestLoader.Load(path);
        if (doc is VNodeManifest v) return new RunTarget(doc, [v]);
        var sys = (SystemManifest)doc;
        var vnodes = ImmutableArray.CreateBuilder<VNodeManifest>();
        var problems = ImmutableArray.CreateBuilder<ManifestProblem>();
        foreach (SystemVNodeEntry entry in sys.VNodes)
        {
            try
            {
                VNodeManifest m = ManifestLoader.LoadVNode(entry.ManifestPath);
                vnodes.Add(entry.Settings.IsEmpty ? m : m with { Settings = m.Settings.SetItems(entry.Settings) });
            }
            catch (ManifestException e)
            {
                problems.AddRange(e.Problems);
            }
        }
        if (problems.Count > 0) throw new ManifestException(problems.ToImmutable());
        foreach (var dup in vnodes.GroupBy(m => m.Name).Where(g => g.Count() > 1))
            problems.Add(new ManifestProblem(SourceSpan.None(sys.Path), $"two V-Nodes are named '{dup.Key}'", ProblemSeverity.Error));
        if (problems.Count > 0) throw new ManifestException(problems.ToImmutable());
        return new RunTarget(doc, vnodes.ToImmutable());
    }
}
