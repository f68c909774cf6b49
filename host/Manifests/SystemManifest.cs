using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>A system file: several V-Node manifests (and optionally a machine file) run together.</summary>
public sealed record SystemManifest(
    string Path,
    string Name,
    string? MachinePath,
    ImmutableArray<SystemVNodeEntry> VNodes,
    ImmutableArray<ManifestProblem> Warnings) : ManifestDocument(Path, Warnings);

/// <summary>One V-Node of a system: its manifest and the settings the system gives it.</summary>
public sealed record SystemVNodeEntry(string ManifestPath, SourceSpan At, ImmutableDictionary<string, string> Settings);
