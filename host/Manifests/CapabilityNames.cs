using System.Collections.Frozen;
using NicScript.Host.Families;

namespace NicScript.Host.Manifests;

/// <summary>Manifest spellings of <see cref="CapabilityKind"/> and what value each takes: the core rows here, a device family's in its module.</summary>
public static class CapabilityNames
{
    /// <summary>What follows a capability's name in the manifest.</summary>
    public enum ValueKind
    {
        /// <summary>A bare name: <c>- CAP_DMA_ALLOC</c>.</summary>
        None,
        /// <summary>A PCI address string: <c>- CAP_HARDWARE_IO_PCI: "0x00:0x1F:0x0"</c>.</summary>
        PciAddress,
        /// <summary>An IRQ line (or a list of them): <c>- CAP_IRQ_REGISTER: 11</c>.</summary>
        Irq,
    }

    /// <summary>The core capabilities; a device family's come from its module (<see cref="DeviceFamilies.Capabilities"/>), after these.</summary>
    private static readonly CapabilitySpelling[] Core =
    [
        new(CapabilityKind.NetworkAccess, "NetworkAccess", ValueKind.None),
        new(CapabilityKind.HardwareIoPci, "CAP_HARDWARE_IO_PCI", ValueKind.PciAddress),
        new(CapabilityKind.IrqRegister, "CAP_IRQ_REGISTER", ValueKind.Irq),
        new(CapabilityKind.DmaAlloc, "CAP_DMA_ALLOC", ValueKind.None),
        new(CapabilityKind.MemShare, "CAP_MEM_SHARE", ValueKind.None),
        new(CapabilityKind.SyscallRaw, "CAP_SYSCALL_RAW", ValueKind.None),
        new(CapabilityKind.LogWrite, "CAP_LOG_WRITE", ValueKind.None),
    ];

    private static readonly CapabilitySpelling[] Table = Complete([.. Core, .. DeviceFamilies.Capabilities]);

    private static readonly FrozenDictionary<string, CapabilityKind> ByName =
        Table.ToFrozenDictionary(r => r.Name, r => r.Kind, StringComparer.Ordinal);

    private static readonly FrozenDictionary<CapabilityKind, CapabilitySpelling> ByKind = Table.ToFrozenDictionary(r => r.Kind);

    /// <summary>Every capability's manifest name: the core ones, then the families' in registry order.</summary>
    public static IEnumerable<string> All => Table.Select(r => r.Name);

    public static bool TryParse(string name, out CapabilityKind kind) => ByName.TryGetValue(name, out kind);

    public static string ToName(CapabilityKind kind) => ByKind[kind].Name;

    public static ValueKind ValueOf(CapabilityKind kind) => ByKind[kind].Value;

    /// <summary>Every <see cref="CapabilityKind"/> has exactly one spelling: a family that adds a kind but not its row fails at start.</summary>
    private static CapabilitySpelling[] Complete(CapabilitySpelling[] table)
    {
        foreach (CapabilityKind kind in Enum.GetValues<CapabilityKind>())
            if (table.Count(r => r.Kind == kind) != 1)
                throw new InvalidOperationException($"capability {kind} needs exactly one manifest spelling (core or a device family's)");
        return table;
    }
}
