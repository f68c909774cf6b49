using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices;

/// <summary>What a device family that places functions itself (a DPU hot-adding elastic NICs, a PF enabling its VFs) and
/// the layers above the families (netdevice) need of the machine, without naming it.</summary>
public interface IDeviceHost
{
    string Name { get; }

    /// <summary>The memory the machine's drivers allocate in and its devices reach (through their functions' IOMMU domains).</summary>
    DmaMemory Dma { get; }

    /// <summary>The IOMMU domain for the function at <paramref name="address"/>: the DMA space its device model is made with (a
    /// new one over <see cref="Dma"/>, or the guest's memory when the function is exported to a guest).</summary>
    IommuDomain Domain(PciAddress address);

    IDeviceEvents Events { get; }

    PciBus Pci { get; }

    /// <summary>The device models on the bus now, in the order they were added.</summary>
    IReadOnlyList<IDeviceModel> Devices { get; }

    IReadOnlyList<Link> Links { get; }

    Link AddLink(Link link);

    /// <summary>The INTx line <paramref name="number"/> (0–31), made on first use.</summary>
    IrqLine Line(int number);

    /// <summary>Places <paramref name="device"/> on the bus, numbers its MSI-X vectors and plugs a NIC into <paramref name="wire"/>;
    /// false when its address is taken.</summary>
    bool TryAdd(IDeviceModel device, Link? wire = null);

    /// <summary>Lists a device whose function an SR-IOV capability placed on the bus (numbering its vectors with
    /// <paramref name="numberVectors"/>, plugging it into <paramref name="wire"/>).</summary>
    void Adopt(IDeviceModel device, Link? wire, bool numberVectors);

    /// <summary>Hot-removes the function at <paramref name="address"/> (its device model's <see cref="IDeviceModel.HotRemove"/> runs).</summary>
    bool TryRemove(PciAddress address);
}
