using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Devices.Dpu;

/// <summary>Makes the functions a DPU hot-adds on the host's bus: elastic NICs and virtual disks.</summary>
/// <remarks>Design: the DPU decides where a function goes and what it offers; which device family implements it is
/// decided above the families (<c>VirtioDpuFunctions</c>, virtio-net and virtio-blk), so the DPU names none of them.</remarks>
public interface IDpuFunctionFactory
{
    /// <summary>An elastic NIC at <paramref name="address"/>: <paramref name="maxPairs"/> queue pairs offered of
    /// <paramref name="pairCapacity"/>, <paramref name="features"/> offered as far as the model implements them.</summary>
    IElasticNic CreateElasticNic(PciAddress address, IommuDomain dma, IrqLine intx, IDeviceEvents events, byte[] mac, ushort mtu,
        int maxPairs, int pairCapacity, ulong? features);

    /// <summary>A disk at <paramref name="address"/> over <paramref name="backingFile"/> (<paramref name="create"/>: a new,
    /// empty file; otherwise its data is kept).</summary>
    IVdisk CreateVdisk(PciAddress address, IommuDomain dma, IrqLine intx, IDeviceEvents events, string name, string backingFile, bool create,
        ulong sectors, int maxQueue, ushort queueDepth, int msix);
}
