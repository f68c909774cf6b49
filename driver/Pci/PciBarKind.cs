namespace NicScript.Driver.Pci;

public enum PciBarKind
{
    Memory32,
    Memory64,
    Io,
}
