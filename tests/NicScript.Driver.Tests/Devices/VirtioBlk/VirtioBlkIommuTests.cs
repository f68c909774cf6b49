using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using Blk = NicScript.Driver.Devices.VirtioBlk.VirtioBlk;

namespace NicScript.Driver.Tests.Devices.VirtioBlk;

/// <summary>virtio-blk requests whose buffers lie outside the function's IOMMU domain: IOERR when the status byte is the
/// driver's, DEVICE_NEEDS_RESET when it is not; the foreign buffer and the disk are untouched; each access is a DMA fault.</summary>
public sealed class VirtioBlkIommuTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _driver, _victim;
    private readonly string _dir = Directory.CreateTempSubdirectory("nicscript-blk-iommu-").FullName;
    private readonly VirtioBlkDevice _disk;
    private readonly VirtioCaps _caps;
    private readonly SplitVirtqueueDriver _q;
    private readonly DmaRegion _mine, _secret;

    public VirtioBlkIommuTests()
    {
        _driver = _memory.CreateOwner("driver", 16 << 20);
        _victim = _memory.CreateOwner("victim", 16 << 20);
        _disk = new VirtioBlkDevice(new PciAddress(0, 2, 5, 0), new IommuDomain(_memory, "0000:02:05.0"), new IrqLine(6), "disk", Path.Combine(_dir, "d.img"), true, 64);
        _caps = VirtioCaps.Open(_disk.Function, Blk.SubsystemBlk, "virtio-blk");
        _caps.AttachDma(_driver);
        _caps.Negotiate(VirtioBlkDriver.WantedFeatures);
        _q = _caps.SetUpQueue(0, _memory, _driver, 16, eventIdx: false, VirtioPci.NoVector, interrupts: false);
        _caps.DriverOk();
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 8192, out _mine));
        Assert.Equal(DmaError.None, _memory.TryAllocate(_victim, 4096, out _secret));
        _secret.DeviceSpan.Fill(0x5E);
        _mine.DeviceSpan[4096..].Fill(0xAA); // data the driver would write to the disk
    }

    public void Dispose()
    {
        _disk.Dispose();
        _memory.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private ulong Header => _mine.Iova;
    private ulong Status => _mine.Iova + 16;
    private ulong Data => _mine.Iova + 4096;
    private bool SecretIntact => _secret.DeviceSpan.ToArray().All(b => b == 0x5E);

    /// <summary>header (readable) · data (readable for OUT, writable for IN) · status (writable); returns the status byte.</summary>
    private byte Request(uint type, ulong data, ulong status, bool submitOnly = false)
    {
        Span<byte> h = _mine.DeviceSpan[..16];
        BinaryPrimitives.WriteUInt32LittleEndian(h, type);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], 8);
        _mine.DeviceSpan[16] = 0xFF;
        Assert.True(_q.TryAddChain([Header, data, status], [16, 512, 1], [false, type == Blk.TypeIn, true], out _));
        if (_q.Publish()) _caps.Notify(0);
        if (submitOnly) return 0xFF;
        Assert.True(_q.TryGetUsed(out _, out _), "the request was not completed");
        return _mine.DeviceSpan[16];
    }

    [Fact]
    public void In_IntoAnotherOwnersBuffer_FailsWithIoErr_AndLeavesItUntouched()
    {
        Assert.Equal(Blk.StatusOk, Request(Blk.TypeIn, Data, Status)); // the path works with our own buffer
        Assert.Equal(Blk.StatusIoErr, Request(Blk.TypeIn, _secret.Iova, Status));
        Assert.True(SecretIntact);
        Assert.Equal(1, _disk.Stats.DmaFaultsCount);
        Assert.Equal(1, _disk.Stats.IoErrorsCount);
        Assert.False(_disk.NeedsReset);
        Assert.Equal(Blk.StatusOk, Request(Blk.TypeIn, Data, Status)); // the queue goes on
    }

    [Fact]
    public void Out_FromAnotherOwnersBuffer_FailsWithIoErr_AndTheDiskNeverSeesIt()
    {
        Assert.Equal(Blk.StatusIoErr, Request(Blk.TypeOut, _secret.Iova, Status));
        Assert.Equal(0, _disk.Stats.WritesCount);
        _disk.Dispose(); // closes the file (the device holds it exclusively)
        Assert.DoesNotContain((byte)0x5E, File.ReadAllBytes(_disk.BackingFile));
        Assert.Equal(1, _disk.Stats.DmaFaultsCount);
    }

    [Fact]
    public void StatusByteInAnotherOwnersBuffer_SetsDeviceNeedsReset_AndWritesNothing()
    {
        Request(Blk.TypeIn, Data, _secret.Iova, submitOnly: true);
        Assert.True(_disk.NeedsReset);
        Assert.True(SecretIntact);
        Assert.False(_q.TryGetUsed(out _, out _));
        Assert.True(_disk.Stats.DmaFaultsCount >= 1);
    }

    [Fact]
    public void DataBufferTransferredAwayBeforeTheDeviceServesIt_FailsWithIoErr()
    {
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 4096, out DmaRegion data));
        _disk.Pause(true);                                           // the request waits in the ring
        Request(Blk.TypeIn, data.Iova, Status, submitOnly: true);
        Assert.Equal(DmaError.None, data.Transfer(_driver, _victim)); // given away before the device reached it
        data.DeviceSpan.Fill(0x77);
        _disk.Pause(false);
        Assert.True(_q.TryGetUsed(out _, out _));
        Assert.Equal(Blk.StatusIoErr, _mine.DeviceSpan[16]);
        Assert.All(data.DeviceSpan.ToArray(), b => Assert.Equal(0x77, b));
        Assert.Equal(1, _disk.Stats.DmaFaultsCount);
    }

    [Fact]
    public void FreedDataBuffer_FailsWithIoErr()
    {
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 4096, out DmaRegion data));
        ulong iova = data.Iova;
        Assert.Equal(DmaError.None, _memory.Free(_driver, data));
        Assert.Equal(Blk.StatusIoErr, Request(Blk.TypeIn, iova, Status));
        Assert.Equal(1, _disk.Stats.DmaFaultsCount);
    }
}
