using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Mana;

/// <summary>A MANA PF (1414:00b9): configuration space and SR-IOV only; its VFs are emulated MANA VFs plugged into one wire.</summary>
/// <remarks>
/// Enabling VFs (<see cref="EnableVfs"/>, or a driver setting VF Enable) places them on the bus through the host, as a
/// hypervisor would; clearing VF Enable hot-removes them. A VF enabled again is the same device, fresh from reset, on the
/// same wire port (its MSI-X vectors are not numbered again).
/// </remarks>
public sealed class ManaPhysicalFunction : IDeviceModel
{
    /// <summary>Makes the PF; place it with the host (<c>Machine.Add</c>) before enabling VFs.</summary>
    public ManaPhysicalFunction(IDeviceHost host, PciAddress address, byte[] mac, Link wire)
    {
        var config = new ConfigSpace(ManaRegisters.VendorId, ManaRegisters.PfDeviceId, 0x020000);
        Function = new PciFunction(address, config, "Microsoft Corporation MANA Physical Function");
        ManaDevice? made = null;
        Sriov = new SriovCapability(Function, host.Pci, totalVfs: 1, firstOffset: 1, stride: 1, ManaRegisters.VfDeviceId, (vfAddress, index) =>
        {
            if (made is not null)
            {
                made.Revive(); // re-enabled: the same function comes back, reset, with the same wire port
                host.Adopt(made, wire: null, numberVectors: false);
                return made.Function;
            }
            var vf = made = new ManaDevice(vfAddress, host.Domain(vfAddress), mac, host.Events);
            host.Adopt(vf, wire, numberVectors: true);
            return vf.Function;
        });
    }

    public string Kind => "mana-pf";

    public PciFunction Function { get; }

    public SriovCapability Sriov { get; }

    public IrqLine? Intx => null;

    public MsixTable? Msix => null;

    public IDmaSpace? Dma => null;

    public WirePort? Port => null;

    /// <summary>Sets NumVFs and VF Enable (with VF Memory Space Enable), as a hypervisor does.</summary>
    public void EnableVfs(int count)
    {
        if (count <= 0) return;
        Function.Config.Write(SriovCapability.NumVfs, 2, (uint)count);
        Function.Config.Write(SriovCapability.Control, 2, 0x0009);
    }

    /// <summary>The PF holds no driver state of its own (its VFs reset themselves).</summary>
    public void Reset() { }

    /// <summary>The PF does no DMA and serves no queues: nothing to stop.</summary>
    public void HotRemove() { }
}
