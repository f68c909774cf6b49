using System.Collections.Frozen;

namespace NicScript.Host.Manifests;

/// <summary>Manifest spellings of <see cref="CapabilityKind"/> and what value each takes. Adding a capability is one row here.</summary>
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

    private static readonly (CapabilityKind Kind, string Name, ValueKind Value)[] Table =
    [
        (CapabilityKind.NetworkAccess, "NetworkAccess", ValueKind.None),
        (CapabilityKind.HardwareIoPci, "CAP_HARDWARE_IO_PCI", ValueKind.PciAddress),
        (CapabilityKind.IrqRegister, "CAP_IRQ_REGISTER", ValueKind.Irq),
        (CapabilityKind.DmaAlloc, "CAP_DMA_ALLOC", ValueKind.None),
        (CapabilityKind.MemShare, "CAP_MEM_SHARE", ValueKind.None),
        (CapabilityKind.SyscallRaw, "CAP_SYSCALL_RAW", ValueKind.None),
        (CapabilityKind.LogWrite, "CAP_LOG_WRITE", ValueKind.None),
        (CapabilityKind.Rdma, "CAP_RDMA", ValueKind.None),
        (CapabilityKind.DpuAdmin, "CAP_DPU_ADMIN", ValueKind.None),
    ];

    private static readonly FrozenDictionary<string, CapabilityKind> ByName =
        Table.ToFrozenDictionary(r => r.Name, r => r.Kind, StringComparer.Ordinal);

    /// <summary>Every capability's manifest name, in table order.</summary>
    public static IEnumerable<string> All => Table.Select(r => r.Name);

    public static bool TryParse(string name, out CapabilityKind kind) => ByName.TryGetValue(name, out kind);

    public static string ToName(CapabilityKind kind) => Table[(int)kind].Name;

    public static ValueKind ValueOf(CapabilityKind kind) => Table[(int)kind].Value;
}
