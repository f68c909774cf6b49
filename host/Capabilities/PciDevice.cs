using NicScript.Driver.Pci;

namespace NicScript.Host.Capabilities;

/// <summary>A script's handle to one granted PCI function: its configuration space. Fails once the function is removed.</summary>
public sealed class PciDevice
{
    private readonly PciFunction _function;

    internal PciDevice(PciFunction function) => _function = function;

    [ScriptApi] public string Address => _function.Address.ToString();

    [ScriptApi] public int VendorId => Live().VendorId;

    [ScriptApi] public int DeviceId => Live().DeviceId;

    [ScriptApi] public double ClassCode => Live().ClassCode;

    [ScriptApi] public string Description => _function.Description;

    [ScriptApi] public int ReadConfig8(int offset) => (int)Live().Config.Read(offset, 1);

    [ScriptApi] public int ReadConfig16(int offset) => (int)Live().Config.Read(offset, 2);

    [ScriptApi] public double ReadConfig32(int offset) => Live().Config.Read(offset, 4);

    [ScriptApi] public void WriteConfig8(int offset, int value) => Live().Config.Write(offset, 1, checked((byte)value));

    [ScriptApi] public void WriteConfig16(int offset, int value) => Live().Config.Write(offset, 2, checked((ushort)value));

    [ScriptApi] public void WriteConfig32(int offset, double value) => Live().Config.Write(offset, 4, checked((uint)value));

    /// <summary>Reads 1, 2, 4 or 8 bytes at <paramref name="offset"/> of BAR <paramref name="bar"/> (all ones when the BAR does not decode it).</summary>
    [ScriptApi] public double ReadBar(int bar, int offset, int size) => Live().ReadBar(bar, offset, CheckSize(size));

    [ScriptApi] public void WriteBar(int bar, int offset, int size, double value) => Live().WriteBar(bar, offset, CheckSize(size), checked((ulong)value));

    [ScriptApi] public int ReadBar8(int bar, int offset) => (int)Live().ReadBar(bar, offset, 1);

    [ScriptApi] public int ReadBar16(int bar, int offset) => (int)Live().ReadBar(bar, offset, 2);

    [ScriptApi] public double ReadBar32(int bar, int offset) => Live().ReadBar(bar, offset, 4);

    [ScriptApi] public void WriteBar8(int bar, int offset, int value) => Live().WriteBar(bar, offset, 1, checked((byte)value));

    [ScriptApi] public void WriteBar16(int bar, int offset, int value) => Live().WriteBar(bar, offset, 2, checked((ushort)value));

    [ScriptApi] public void WriteBar32(int bar, int offset, double value) => Live().WriteBar(bar, offset, 4, checked((uint)value));

    /// <summary>Writes a 64-bit register as two 32-bit halves, low first (exact up to 2^53 from JavaScript).</summary>
    [ScriptApi] public void WriteBar64(int bar, int offset, double value) => Live().WriteBar(bar, offset, 8, checked((ulong)value));

    /// <summary>The size of BAR <paramref name="bar"/> in bytes, 0 if there is none.</summary>
    /// <summary>One store of 1, 2, 4 or 8 little-endian bytes (a 64-bit doorbell exactly, which a double cannot carry).</summary>
    [ScriptApi]
    public void WriteBarBytes(int bar, int offset, byte[] value)
    {
        CheckSize(value.Length);
        Span<byte> v = stackalloc byte[8];
        v.Clear();
        value.CopyTo(v);
        Live().WriteBar(bar, offset, value.Length, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(v));
    }

    [ScriptApi] public double BarSize(int bar) => Live().Bar(bar)?.Size ?? 0;

    /// <summary>Offsets of the capabilities with id <paramref name="id"/> (0x09 vendor, 0x11 MSI-X), walking the list.</summary>
    [ScriptApi] public int[] Capabilities(int id) => Live().FindCapabilities(checked((byte)id)).ToArray();

    private static int CheckSize(int size) => size is 1 or 2 or 4 or 8 ? size : throw new ScriptCallException($"register size {size}: expected 1, 2, 4 or 8");

    private PciFunction Live() =>
        _function.Removed ? throw new ScriptCallException($"pci {_function.Address}: the function was removed") : _function;

    public override string ToString() => _function.ToString();
}
