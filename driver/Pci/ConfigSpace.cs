using System.Buffers.Binary;

namespace NicScript.Driver.Pci;

/// <summary>A function's 4 KiB PCI configuration space, with a per-bit write mask as hardware has.</summary>
/// <remarks>
/// Design: <c>_bytes</c> is what a read returns; <c>_writable</c> says which bits a driver's write may change
/// (read-only and reserved bits keep their value, as on a real function). Offsets beyond the space read as all
/// ones and ignore writes, like a master abort. Accesses must be naturally aligned; unaligned ones read all ones.
/// </remarks>
public sealed class ConfigSpace
{
    public const int Size = 4096;

    /// <summary>Offsets of the type-0 header (PCI Local Bus 3.0 §6.1).</summary>
    public const int VendorId = 0x00, DeviceId = 0x02, Command = 0x04, Status = 0x06, RevisionId = 0x08,
        ClassCode = 0x09, HeaderType = 0x0E, Bar0 = 0x10, SubsystemVendorId = 0x2C, SubsystemId = 0x2E,
        CapabilitiesPointer = 0x34, InterruptLine = 0x3C, InterruptPin = 0x3D;

    private readonly byte[] _bytes = new byte[Size];
    private readonly byte[] _writable = new byte[Size];

    public ConfigSpace(ushort vendorId, ushort deviceId, uint classCode, byte revision = 0)
    {
        Span<byte> b = _bytes;
        BinaryPrimitives.WriteUInt16LittleEndian(b[VendorId..], vendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(b[DeviceId..], deviceId);
        b[RevisionId] = revision;
        b[ClassCode] = (byte)classCode;
        b[ClassCode + 1] = (byte)(classCode >> 8);
        b[ClassCode + 2] = (byte)(classCode >> 16);
        // Command: I/O space, memory space, bus master, INTx disable are the bits a driver sets.
        BinaryPrimitives.WriteUInt16LittleEndian(_writable.AsSpan(Command), 0x0407);
        _writable[InterruptLine] = 0xFF;
    }

    public ushort Read16(int offset) => (ushort)Read(offset, 2);

    public uint Read32(int offset) => Read(offset, 4);

    /// <summary>Reads 1, 2 or 4 bytes, little-endian.</summary>
    public uint Read(int offset, int size)
    {
        if (!IsValid(offset, size)) return size == 4 ? 0xFFFF_FFFF : (1u << (size * 8)) - 1;
        uint v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | _bytes[offset + i];
        return v;
    }

    /// <summary>Writes 1, 2 or 4 bytes; only writable bits change.</summary>
    public void Write(int offset, int size, uint value)
    {
        if (!IsValid(offset, size)) return;
        for (int i = 0; i < size; i++, value >>= 8)
        {
            byte mask = _writable[offset + i];
            _bytes[offset + i] = (byte)((_bytes[offset + i] & ~mask) | ((byte)value & mask));
        }
        Written?.Invoke(offset, size);
    }

    /// <summary>Raised after a driver write, so the device model can react (BAR sizing, MSI-X enable, ...).</summary>
    public event Action<int, int>? Written;

    /// <summary>Device-side write: sets bits regardless of the mask (the model's own registers).</summary>
    public void Set(int offset, int size, uint value)
    {
        for (int i = 0; i < size; i++, value >>= 8) _bytes[offset + i] = (byte)value;
    }

    /// <summary>Device-side: which bits of [offset, offset+size) a driver may write.</summary>
    public void SetWritable(int offset, int size, uint mask)
    {
        for (int i = 0; i < size; i++, mask >>= 8) _writable[offset + i] = (byte)mask;
    }

    private static bool IsValid(int offset, int size) =>
        size is 1 or 2 or 4 && offset >= 0 && offset + size <= Size && offset % size == 0;
}
