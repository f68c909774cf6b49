using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>What <c>run</c> and <c>check</c> were pointed at: one V-Node manifest, or a system and the V-Nodes it lists.</summary>
public sealed record RunTarget(ManifestDocument Document, ImmutableArray<VNodeManifest> VNodes)
{
    public string Name => Document is SystemManifest s ? s.Name : VNodes[0].Name;

    /// <summary>The machine file's contents: <c>--machine</c> when given, else the system's <c>system.machine</c>; null for the default machine.</summary>
    public MachineSpec? Machine { get; init; }

    /// <summary>Warnings of the document and of every V-Node manifest.</summary>
    public IEnumerable<ManifestProblem> Warnings => Document.Warnings.Concat(Document is SystemManifest ? VNodes.SelectMany(v => v.Warnings) : []);

    /// <summary>Everything read in one pass, whether or not it can run.</summary>
    /// <param name="Target">The target when no file has an error.</param>
    /// <param name="Loaded">Every V-Node manifest that has no error of its own (its script can be checked even when another file failed).</param>
    /// <param name="Problems">Every error and warning of every file, in <see cref="ManifestProblem.InReadingOrder"/>.</param>
    public sealed record LoadResult(RunTarget? Target, ImmutableArray<VNodeManifest> Loaded, ImmutableArray<ManifestProblem> Problems);

    /// <summary>Loads <paramref name="path"/>, for a system each manifest it lists, and the machine file.</summary>
    /// <exception cref="ManifestException">Any file has an error: every problem of every file, sorted.</exception>
    public static RunTarget Load(string path, string? machineFile = null)
    {
        LoadResult result = Collect(path, machineFile);
        return result.Target ?? throw new ManifestException(result.Problems, everyError: true);
    }

    /// <summary>Reads <paramref name="path"/> and every file it names, reporting every problem of every file at once.</summary>
    /// <remarks>
    /// Design: an error in one file never hides another's. A system file with errors still has its listed manifests
    /// (those that exist) and its machine file read; a member with errors does not stop the next. Only what cannot be
    /// known is skipped: the V-Node name clash check needs both manifests loaded. <paramref name="machineFile"/>
    /// (<c>--machine</c>) replaces the system's machine file, as <c>run</c> does.
    /// </remarks>
    public static LoadResult Collect(string path, string? machineFile = null)
    {
        var problems = new List<ManifestProblem>();
        ManifestLoader.FileResult top = ManifestLoader.Read(path);
        problems.AddRange(top.Problems);
        var vnodes = ImmutableArray.CreateBuilder<VNodeManifest>();
        bool failed = top.Document is null;
        if (top.Document is VNodeManifest single) vnodes.Add(single);

        // the machine file first: the system names it before its V-Nodes, and problems keep the order files are read in
        MachineSpec? machine = null;
        if ((machineFile ?? (top.MachinePath is { } named ? DisplayPath.Of(named) : null)) is { } machinePath)
        {
            try { machine = MachineFileParser.Load(machinePath); }
            catch (ManifestException e) { problems.AddRange(e.Problems); failed = true; }
        }

        var names = new Dictionary<string, SystemVNodeEntry>(StringComparer.Ordinal);
        foreach (SystemVNodeEntry entry in top.Members)
        {
            ManifestLoader.FileResult member = ManifestLoader.Read(DisplayPath.Of(entry.ManifestPath)); // shown as its script's path is
            problems.AddRange(member.Problems);
            switch (member.Document)
            {
                case VNodeManifest m:
                    if (!names.TryAdd(m.Name, entry))
                    {
                        problems.Add(new ManifestProblem(entry.At, $"two V-Nodes are named '{m.Name}' (the other is listed at {names[m.Name].At.Line}:{names[m.Name].At.Column})", ProblemSeverity.Error));
                        failed = true;
                    }
                    vnodes.Add(entry.Settings.IsEmpty ? m : m with { Settings = m.Settings.SetItems(entry.Settings) });
                    break;
                case SystemManifest:
                    problems.Add(new ManifestProblem(entry.At, "expected a V-Node manifest (top-level key 'vnode'), got a system file", ProblemSeverity.Error));
                    failed = true;
                    break;
                default:
                    failed = true;
                    break;
            }
        }

        ImmutableArray<ManifestProblem> sorted = ManifestProblem.InReadingOrder(problems);
        RunTarget? target = failed ? null : new RunTarget(top.Document!, vnodes.ToImmutable()) { Machine = machine };
        return new LoadResult(target, vnodes.ToImmutable(), sorted);
    }
}
