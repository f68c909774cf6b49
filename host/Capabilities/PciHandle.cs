using NicScript.Driver;
using NicScript.Driver.Pci;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>pci</c> global: opens only the functions <c>CAP_HARDWARE_IO_PCI</c> grants.</summary>
public sealed class PciHandle
{
    private readonly VNodeContext _ctx;
    private readonly Machine _machine;

    public PciHandle(VNodeContext ctx, Machine machine)
    {
        _ctx = ctx;
        _machine = machine;
    }

    /// <summary>The granted addresses, normalised (<c>0000:00:1f.0</c>).</summary>
    [ScriptApi]
    public string[] Granted => _ctx.Manifest.Capabilities.Where(g => g.Kind == CapabilityKind.HardwareIoPci && g.Pci is not null)
        .Select(g => g.Pci!.Value.ToString()).Distinct().ToArray();

    /// <summary>Every function on the machine's bus, as lspci lists them (<c>0000:00:1f.0 1af4:1000 ...</c>): enumeration needs no grant, opening does.</summary>
    [ScriptApi]
    public string[] List() => _machine.Pci.Functions
        .Select(f => $"{f.Address} {f.VendorId:x4}:{f.DeviceId:x4} [{f.ClassCode:x6}] {f.Description}").ToArray();

    /// <summary>Opens the function at <paramref name="address"/> (<c>00:1f.0</c>, <c>0000:00:1f.0</c> or <c>0x00:0x1F:0x0</c>).</summary>
    [ScriptApi]
    public PciDevice Open(string address)
    {
        if (!PciAddress.TryParse(address, out PciAddress bdf, out string? error))
            throw new ScriptCallException($"pci.open(\"{address}\"): {error}");
        if (!_ctx.Manifest.GrantsPci(bdf)) throw _ctx.Deny("CAP_HARDWARE_IO_PCI", bdf.ToString());
        if (!_machine.Pci.TryGet(bdf, out PciFunction function))
            throw new ScriptCallException($"pci.open(\"{address}\"): no PCI function at {bdf} on machine {_machine.Name}");
        _ctx.AttachDma(function); // its device may now reach this V-Node's DMA memory (and no one else's)
        return new PciDevice(function);
    }
}
