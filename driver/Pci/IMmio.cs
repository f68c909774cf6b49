namespace NicScript.Driver.Pci;

/// <summary>A device's registers behind one BAR: reads and writes of 1, 2, 4 or 8 bytes at an offset.</summary>
/// <remarks>Implementations never throw for a driver's access: an offset they do not decode reads as all ones and ignores writes.</remarks>
public interface IMmio
{
    ulong Read(int offset, int size);

    void Write(int offset, int size, ulong value);
}
