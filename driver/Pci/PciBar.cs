namespace NicScript.Driver.Pci;

/// <summary>One base address register: its size, kind and the registers it decodes.</summary>
public sealed record PciBar(int Index, PciBarKind Kind, uint Size, bool Prefetchable, IMmio Registers)
{
    /// <summary>The low flag bits a BAR reads back with: bit 0 I/O, bits 1–2 type (10b = 64-bit), bit 3 prefetchable.</summary>
    public uint Flags => Kind switch
    {
        PciBarKind.Io => 0x1,
        PciBarKind.Memory64 => 0x4u | (Prefetchable ? 0x8u : 0),
        _ => Prefetchable ? 0x8u : 0,
    };
}
