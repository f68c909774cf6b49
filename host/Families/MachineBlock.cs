using NicScript.Host.Manifests;

namespace NicScript.Host.Families;

/// <summary>A top-level block of the machine file that a family owns (the DPU's <c>dpu:</c>): its key and how it is read.</summary>
/// <param name="Key">The block's key, accepted beside <c>machine</c>, <c>wires</c> and <c>devices</c>.</param>
/// <param name="Read">Reads the block — null when the file has none, so the family still checks the wires it plugs into —
/// after the wires and devices, reporting every problem through the reader; returns what <see cref="MachineSpec.Block{T}"/>
/// gives back under <see cref="Key"/>, or null.</param>
internal sealed record MachineBlock(string Key, Func<YamlNode?, MachineWiring, ManifestReader, object?> Read);
