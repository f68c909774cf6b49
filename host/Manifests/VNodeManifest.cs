using System.Collections.Immutable;
using NicScript.Driver.Pci;

namespace NicScript.Host.Manifests;

/// <summary>A validated <c>vnode.yml</c>: identity, runtime, grants, storage and the metrics it declares.</summary>
public sealed record VNodeManifest(
    string Path,
    string Name,
    string Version,
    string? Maintainer,
    ManifestMode Mode,
    RuntimeSpec Runtime,
    ImmutableArray<CapabilityGrant> Capabilities,
    ImmutableArray<string> Mounts,
    ImmutableArray<string> Metrics,
    ImmutableArray<ManifestProblem> Warnings) : ManifestDocument(Path, Warnings)
{
    /// <summary>Free-form settings for the script (<c>settings:</c> in the manifest; a system file's entry overrides them).</summary>
    public ImmutableDictionary<string, string> Settings { get; init; } = ImmutableDictionary<string, string>.Empty;

    public bool Grants(CapabilityKind kind) => Capabilities.Any(g => g.Kind == kind);

    public bool GrantsPci(PciAddress address) => Capabilities.Any(g => g.Kind == CapabilityKind.HardwareIoPci && g.Pci == address);

    public bool GrantsIrq(int line) => Capabilities.Any(g => g.Kind == CapabilityKind.IrqRegister && g.Irq == line);
}
