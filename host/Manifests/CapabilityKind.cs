namespace NicScript.Host.Manifests;

/// <summary>The capabilities a manifest may grant; <see cref="CapabilityNames"/> holds their manifest spellings.</summary>
public enum CapabilityKind
{
    NetworkAccess,
    HardwareIoPci,
    IrqRegister,
    DmaAlloc,
    MemShare,
    SyscallRaw,
    LogWrite,
    Rdma,
    DpuAdmin,
}
