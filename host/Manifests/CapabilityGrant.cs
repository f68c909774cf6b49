using System.Globalization;
using NicScript.Driver.Pci;

namespace NicScript.Host.Manifests;

/// <summary>One capability a manifest grants, with its scope (a PCI function or an IRQ line) and where it was written.</summary>
public sealed record CapabilityGrant(CapabilityKind Kind, PciAddress? Pci, int? Irq, SourceSpan At)
{
    /// <summary>The manifest form: <c>CAP_HARDWARE_IO_PCI 0000:00:1f.0</c>, <c>CAP_IRQ_REGISTER 11</c>, <c>CAP_DMA_ALLOC</c>.</summary>
    public override string ToString()
    {
        string name = CapabilityNames.ToName(Kind);
        if (Pci is { } pci) return $"{name} {pci}";
        if (Irq is { } irq) return $"{name} {irq.ToString(CultureInfo.InvariantCulture)}";
        return name;
    }
}
