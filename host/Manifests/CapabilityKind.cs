namespace NicScript.Host.Manifests;

/// <summary>The capabilities a manifest may grant; <see cref="CapabilityNames"/> holds their manifest spellings.</summary>
/// <remarks>
/// Design: an enum, not a family-extensible type, because every grant check (<c>Manifest.Grants(kind)</c>, on every handle
/// call that needs one) and a handle's own checks name it as a constant. A family that brings a capability adds its member here (the
/// one line it writes outside its folder) and its spelling and value kind in its module (<c>DeviceFamily.Capabilities</c>).
/// </remarks>
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
