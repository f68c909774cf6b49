using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests;

/// <summary>The DPU's functions as the reference DPU has them: an elastic NIC is a modern virtio-net function that its
/// adapter drives, a vdisk a virtio-blk function over its backing file that the adapter resizes, pauses and closes.</summary>
public sealed class VirtioDpuFunctionsTests : IDisposable
{
    private readonly Machine _machine = new("t");
    private readonly string _dir = Directory.CreateTempSubdirectory("nicscript-dpufn-").FullName;

    public void Dispose()
    {
        _machine.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void CreateElasticNic_IsAModernVirtioNetFunctionTheAdapterConfigures()
    {
        var address = new PciAddress(0, 1, 3, 0);
        IElasticNic nic = VirtioDpuFunctions.Instance.CreateElasticNic(address, _machine.Domain(address), _machine.Line(5), _machine.Events,
            [2, 0, 0, 0, 0, 3], 1500, maxPairs: 2, pairCapacity: 4, features: null);

        var device = Assert.IsType<VirtioNetDevice>(nic.Model);
        Assert.Equal(VirtioPci.ModernNetDeviceId, device.Function.DeviceId);
        Assert.Equal((2, 0), (nic.MaxPairs, nic.ActivePairs)); // no driver yet
        Assert.True(nic.Reconfigure(9000, [2, 0, 0, 0, 0, 4]));
        Assert.Equal((9000, (byte)4), (device.Mtu, device.Mac[5]));
        Assert.False(nic.Reconfigure(9000, [2, 0, 0, 0, 0, 4]));
        IElasticNic? served = null;
        nic.TxDoorbell = n => served = n;
        device.TxDoorbell!(device);
        Assert.Same(nic, served); // the doorbell's server gets the adapter, not the family's type
        nic.TxDoorbell = null;
        Assert.Null(device.TxDoorbell);
    }

    [Fact]
    public void CreateVdisk_IsAVirtioBlkFunctionOverItsFileThatTheAdapterResizesPausesAndCloses()
    {
        var address = new PciAddress(0, 2, 1, 0);
        string file = Path.Combine(_dir, "1.img");
        IVdisk disk = VirtioDpuFunctions.Instance.CreateVdisk(address, _machine.Domain(address), _machine.Line(6), _machine.Events, "disk1", file,
            create: true, sectors: 8, maxQueue: 1, queueDepth: 16, msix: 2);

        var device = Assert.IsType<VirtioBlkDevice>(disk.Model);
        Assert.Equal((file, "disk1"), (disk.BackingFile, device.Name));
        Assert.True(disk.Resize(16));
        Assert.Equal(16UL, device.Capacity);
        Assert.True(disk.Pause(true));
        Assert.True(device.Paused);
        disk.Dispose();
        using var reopened = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None); // closed: the file is free again
        Assert.Equal(16 * 512, reopened.Length);
    }
}
