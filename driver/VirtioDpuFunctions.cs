using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver;

/// <summary>The DPU's functions as the reference DPU has them (reference/dpu.md): elastic NICs as modern virtio-net
/// functions (1af4:1041), virtual disks as virtio-blk functions (1af4:1042).</summary>
/// <remarks>Design: the composer above the families, like <see cref="DefaultMachine"/>, is where the DPU meets the virtio
/// families; the adapters only forward, each call into a sealed device type.</remarks>
public sealed class VirtioDpuFunctions : IDpuFunctionFactory
{
    public static readonly VirtioDpuFunctions Instance = new();

    private VirtioDpuFunctions()
    {
    }

    public IElasticNic CreateElasticNic(PciAddress address, IommuDomain dma, IrqLine intx, IDeviceEvents events, byte[] mac, ushort mtu,
        int maxPairs, int pairCapacity, ulong? features) =>
        new ElasticNic(new VirtioNetDevice(address, dma, intx, mac, events, mtu, VirtioPci.ModernNetDeviceId, maxPairs, pairCapacity, features));

    public IVdisk CreateVdisk(PciAddress address, IommuDomain dma, IrqLine intx, IDeviceEvents events, string name, string backingFile, bool create,
        ulong sectors, int maxQueue, ushort queueDepth, int msix) =>
        new Vdisk(new VirtioBlkDevice(address, dma, intx, name, backingFile, create, sectors, maxQueue, queueDepth, msix, events));

    /// <summary>A virtio-net function as the DPU's elastic NIC.</summary>
    private sealed class ElasticNic(VirtioNetDevice nic) : IElasticNic
    {
        public INicModel Model => nic;
        public int MaxPairs => nic.MaxPairs;
        public int ActivePairs => nic.ActivePairs;
        public bool Reconfigure(ushort mtu, ReadOnlySpan<byte> mac) => nic.Reconfigure(mtu, mac);
        public bool Renegotiate(int maxPairs, ulong? features) => nic.Renegotiate(maxPairs, features);
        public Action<IElasticNic>? TxDoorbell
        {
            set => nic.TxDoorbell = value is null ? null : _ => value(this);
        }
        public bool BadTxBufferIsFrameError
        {
            set => nic.BadTxBufferIsFrameError = value;
        }
        public void ProcessTx() => nic.ProcessTx();
        public bool Deliver(ReadOnlySpan<byte> frame, int queue) => nic.Deliver(frame, queue);
        public void DeliverBurst(FrameBatch frames, ReadOnlySpan<int> queues, Span<bool> delivered) => nic.DeliverBurst(frames, queues, delivered);
    }

    /// <summary>A virtio-blk function as the DPU's virtual disk.</summary>
    private sealed class Vdisk(VirtioBlkDevice disk) : IVdisk
    {
        public IDeviceModel Model => disk;
        public string BackingFile => disk.BackingFile;
        public bool Resize(ulong sectors) => disk.Resize(sectors);
        public bool Pause(bool pause) => disk.Pause(pause);
        public void Dispose() => disk.Dispose();
    }
}
