using System.Collections.Immutable;

namespace NicScript.Host.Manifests;

/// <summary>A system file: several V-Node manifests (and optionally a machine file) run together.</summary>
public sealed record SystemManifest(
    string Path,
    string Name,
    string? MachinePath,
    ImmutableArray<SystemVNodeEntry> VNodes,
    ImmutableArray<ManifestProblem> Warnings) : ManifestDocument(Path, Warnings)
{
    /// <summary>The built-in peer on the default machine's wire, when the system asks for one.</summary>
    public PeerSpec? Peer { get; init; }
}

/// <summary>The built-in peer: its own IPv4 address, the target it pings, how many requests and how fast (0: as fast as replies come).</summary>
public sealed record PeerSpec(byte[] Ipv4, byte[] Target, int Packets, double Rate);

/// <summary>One V-Node of a system: its manifest and the settings the system gives it.</summary>
public sealed record SystemVNodeEntry(string ManifestPath, SourceSpan At, ImmutableDictionary<string, string> Settings);
