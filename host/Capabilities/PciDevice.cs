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

    private PciFunction Live() =>
        _function.Removed ? throw new ScriptCallException($"pci {_function.Address}: the function was removed") : _function;

    public override string ToString() => _function.ToString();
}
