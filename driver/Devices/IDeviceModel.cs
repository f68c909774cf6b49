using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices;

/// <summary>What every emulated PCI function is to the machine: its function (configuration space, BARs and their
/// registers), its interrupts, the DMA space it reaches through, reset, hot-remove and an optional wire port.</summary>
/// <remarks>
/// Design: the machine, <c>machine show</c>, the netdevice layer and RDMA take this and never a family's type, as
/// Firecracker's device manager takes its <c>VirtioDevice</c> trait (STYLE §6.6). A family implements it; what only one
/// kind of function has (a NIC's MAC and wire) is a narrower contract (<see cref="INicModel"/>) beside it.
/// </remarks>
public interface IDeviceModel
{
    /// <summary>The family and kind, e.g. <c>virtio-net</c>, <c>mana-vf</c>.</summary>
    string Kind { get; }

    /// <summary>The PCI function: configuration space and BAR regions (MMIO); <see cref="PciFunction.Description"/> is what lspci prints.</summary>
    PciFunction Function { get; }

    /// <summary>The INTx line the function asserts, or null for one without (a VF).</summary>
    IrqLine? Intx { get; }

    /// <summary>The function's MSI-X table, or null for one without; the machine numbers its vectors.</summary>
    MsixTable? Msix { get; }

    /// <summary>What the device reads and writes through, or null for a function that does no DMA.</summary>
    IDmaSpace? Dma { get; }

    /// <summary>Where the device is plugged into a wire, or null (not a NIC, or not connected).</summary>
    WirePort? Port { get; }

    /// <summary>Whether a driver's write to <paramref name="bar"/> at <paramref name="offset"/> rings a doorbell (what a bus
    /// trace shows as a doorbell rather than a register write); none unless the family says.</summary>
    bool IsDoorbell(int bar, int offset) => false;

    /// <summary>Function-level reset: the device forgets what its driver set up, as after a driver writes reset.</summary>
    void Reset();

    /// <summary>The function left the bus: the device stops and drops every reference to its driver's memory.</summary>
    void HotRemove();
}
