namespace NicScript.Host.Manifests;

/// <summary>A capability's manifest name and what value follows it: one row of <see cref="CapabilityNames"/>.</summary>
public sealed record CapabilitySpelling(CapabilityKind Kind, string Name, CapabilityNames.ValueKind Value);
