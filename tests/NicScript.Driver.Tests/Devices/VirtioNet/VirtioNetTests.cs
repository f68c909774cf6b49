using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.VirtioNet;

public sealed class VirtioNetTests : IDisposable
{
    private sealed class Faults : IDeviceEvents
    {
        public readonly List<DeviceFault> Got = new();
        public void Fault(DeviceFault fault) => Got.Add(fault);
    }

    private sealed class Irqs : IInterruptSink
    {
        public int Count;
        public void Deliver(Interrupt interrupt, long raisedTimestamp) => Count++;
    }

    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _owner;
    private readonly IrqLine _line = new(11);
    private readonly Faults _faults = new();
    private readonly Link _wire = Links.Loopback();
    private readonly VirtioNetDevice _device;

    public VirtioNetTests()
    {
        _owner = _memory.CreateOwner("net-bridge", 16 << 20);
        _device = new VirtioNetDevice(new PciAddress(0, 0, 0x1f, 0), new IommuDomain(_memory, "0000:00:1f.0", _faults), _line, [0x52, 0x54, 0, 0x12, 0x34, 0x56], _faults);
        _device.Connect(_wire);
    }

    public void Dispose()
    {
        _wire.Dispose();
        _memory.Dispose();
    }

    private PciFunction F => _device.Function;

    private void EnableMemory() => F.Config.Write(ConfigSpace.Command, 2, 0x6);

    private ulong Common(int offset, int size) => F.ReadBar(VirtioPci.ModernBar, VirtioPci.CommonOffset + offset, size);

    private void Common(int offset, int size, ulong value) => F.WriteBar(VirtioPci.ModernBar, VirtioPci.CommonOffset + offset, size, value);

    private byte Status() => (byte)Common(VirtioPci.DeviceStatus, 1);

    private static byte[] Frame(int length, byte seed)
    {
        var f = new byte[length];
        for (int i = 0; i < length; i++) f[i] = (byte)(seed + i);
        f[0] = 0x52; f[12] = 0x88; f[13] = 0xB5;
        return f;
    }

    [Fact]
    public void Function_IsTransitionalVirtioNetWithModernCapabilities()
    {
        Assert.Equal((0x1af4, 0x1000, 0x020000u), (F.VendorId, F.DeviceId, F.ClassCode));
        Assert.Equal(4, F.FindCapabilities(VirtioPci.CapVendor).Count());
        Assert.Single(F.FindCapabilities(MsixTable.CapabilityId));
        Assert.Equal(11u, F.Config.Read(ConfigSpace.InterruptLine, 1));
    }

    [Fact]
    public void BringUp_ThroughRegistersOnly_ReachesDriverOkWithNegotiatedFeatures()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        Assert.Equal(VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk | VirtioPci.StatusDriverOk, driver.DeviceStatus);
        Assert.Equal(VirtioNetDriver.WantedFeatures & VirtioNetDevice.OfferedFeatures, _device.DriverFeatures);
        Assert.Equal(_device.Mac, driver.Mac);
        Assert.True(driver.LinkUp);
    }

    [Fact]
    public void FeaturesOk_WithUnofferedFeature_DoesNotStick()
    {
        EnableMemory();
        Common(VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver);
        Common(VirtioPci.DriverFeatureSelect, 4, 1);
        Common(VirtioPci.DriverFeature, 4, 1 | 1 << 4); // VERSION_1 plus bit 36, never offered
        Common(VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk);
        Assert.Equal(0, Status() & VirtioPci.StatusFeaturesOk);
    }

    [Fact]
    public void FeaturesOk_WithoutVersion1_DoesNotStick()
    {
        EnableMemory();
        Common(VirtioPci.DriverFeatureSelect, 4, 0);
        Common(VirtioPci.DriverFeature, 4, 1 << VirtioPci.FeatureMac);
        Common(VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk);
        Assert.Equal(0, Status() & VirtioPci.StatusFeaturesOk);
    }

    [Fact]
    public void Notify_BeforeDriverOk_SetsDeviceNeedsReset()
    {
        EnableMemory();
        F.WriteBar(VirtioPci.ModernBar, VirtioPci.NotifyOffset + 4, 2, 1);
        Assert.True(_device.NeedsReset);
        Assert.Equal("notify_before_driver_ok", Assert.Single(_faults.Got).Reason);
    }

    [Fact]
    public void DriverOk_WithRingsOutsideDma_SetsDeviceNeedsReset()
    {
        EnableMemory();
        Common(VirtioPci.DriverFeatureSelect, 4, 1);
        Common(VirtioPci.DriverFeature, 4, 1);
        Common(VirtioPci.DeviceStatus, 1, 1 | 2 | 8);
        Common(VirtioPci.QueueSelect, 2, 0);
        Common(VirtioPci.QueueDesc, 8, 0xdead_0000);
        Common(VirtioPci.QueueEnable, 2, 1);
        Common(VirtioPci.DeviceStatus, 1, 1 | 2 | 8 | 4);
        Assert.True(_device.NeedsReset);
        Assert.Contains("RingOutsideDma", _device.ResetReason);
    }

    [Fact]
    public void Reset_ClearsStatusAndNeedsReset()
    {
        EnableMemory();
        F.WriteBar(VirtioPci.ModernBar, VirtioPci.NotifyOffset, 2, 0);
        Common(VirtioPci.DeviceStatus, 1, 0);
        Assert.Equal(0, Status());
        Assert.False(_device.NeedsReset);
    }

    [Fact]
    public void QueueSize_Senseless_KeepsTheOldValue()
    {
        EnableMemory();
        Common(VirtioPci.QueueSelect, 2, 0);
        Common(VirtioPci.QueueSize, 2, 100); // not a power of two
        Assert.Equal((ulong)VirtioPci.MaxQueueSize, Common(VirtioPci.QueueSize, 2));
        Common(VirtioPci.QueueSize, 2, 64);
        Assert.Equal(64UL, Common(VirtioPci.QueueSize, 2));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1500)]
    public void Loopback_BurstGoesOutAndComesBackByteForByte(int size)
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        var tx = new FrameBurst(driver.Pool);
        var rx = new FrameBurst(driver.Pool);
        Assert.True(tx.Fill());
        var sent = new List<byte[]>();
        for (int i = 0; i < 32; i++)
        {
            byte[] f = Frame(size, (byte)i);
            f.CopyTo(tx.Buffer(i));
            tx.SetLength(i, size);
            sent.Add(f);
        }
        tx.Count = 32;
        Assert.Equal(32, driver.Tx(tx));
        Assert.Equal(32, driver.RxPoll(rx));
        for (int i = 0; i < 32; i++) Assert.Equal(sent[i], rx.Frame(i).ToArray());
        Assert.Equal((32, 32), (_device.Stats.TxPacketsCount, _device.Stats.RxPacketsCount));
    }

    [Fact]
    public void Loopback_ManyBursts_BuffersNeitherLeakNorRunOut()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        var tx = new FrameBurst(driver.Pool);
        var rx = new FrameBurst(driver.Pool);
        int free = -1;
        for (int round = 0; round < 2000; round++)
        {
            Assert.True(tx.Fill());
            for (int i = 0; i < 32; i++) tx.SetLength(i, 64);
            tx.Count = 32;
            Assert.Equal(32, driver.Tx(tx));
            Assert.Equal(32, driver.RxPoll(rx));
            if (round == 10) free = driver.Pool.FreeCount;
            if (round > 10) Assert.Equal(free, driver.Pool.FreeCount);
        }
        Assert.False(_device.NeedsReset);
    }

    [Fact]
    public void Rx_WithoutPostedBuffers_DropsAndCounts()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner, queueSize: 4);
        var tx = new FrameBurst(driver.Pool);
        tx.Fill();
        for (int i = 0; i < 4; i++) tx.SetLength(i, 64);
        tx.Count = 4;
        driver.Tx(tx); // fills the 4 RX buffers
        tx.Fill();
        tx.Count = 4;
        for (int i = 0; i < 4; i++) tx.SetLength(i, 64);
        driver.Tx(tx); // nowhere to go
        Assert.Equal(4, _device.Stats.RxDroppedCount);
        Assert.False(_device.NeedsReset);
    }

    [Fact]
    public void Interrupts_IntxRaisedAndIsrReadAcks()
    {
        var sink = new Irqs();
        _line.Connect(sink);
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner, interrupts: false);
        var tx = new FrameBurst(driver.Pool);
        tx.Fill();
        tx.SetLength(0, 64);
        tx.Count = 1;
        driver.Tx(tx);
        Assert.True(_line.Asserted);
        Assert.Equal(1, sink.Count);
        Assert.Equal(1, driver.AckInterrupt() & 1);
        Assert.False(_line.Asserted);
        Assert.Equal(0, driver.AckInterrupt());
    }

    [Fact]
    public void Interrupts_MsixVectorsForRxAndTx()
    {
        var sink = new Irqs();
        for (int v = 0; v < 3; v++) _device.Msix.Vector(v).Connect(sink);
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner, interrupts: true);
        var tx = new FrameBurst(driver.Pool);
        tx.Fill();
        tx.SetLength(0, 64);
        tx.Count = 1;
        driver.Tx(tx);
        Assert.Equal(1, _device.Msix.Vector(1).Raised);
        Assert.Equal(1, _device.Msix.Vector(2).Raised);
        Assert.False(_line.Asserted);
    }

    [Fact]
    public void TxDescriptorOutsideDma_SetsNeedsResetAndThrowsNothing()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        // Break the protocol by hand: a descriptor pointing nowhere, then the doorbell.
        Common(VirtioPci.QueueSelect, 2, 1);
        ulong desc = Common(VirtioPci.QueueDesc, 8), avail = Common(VirtioPci.QueueDriver, 8);
        Assert.Equal(DmaError.None, _memory.TryWrite(desc, BitConverter.GetBytes(0xdead_0000UL)));
        Assert.Equal(DmaError.None, _memory.TryWrite(desc + 8, BitConverter.GetBytes(64u)));
        Assert.Equal(DmaError.None, _memory.TryWrite(avail + 4, new byte[2]));
        Assert.Equal(DmaError.None, _memory.TryWrite(avail + 2, BitConverter.GetBytes((ushort)1)));
        F.WriteBar(VirtioPci.ModernBar, VirtioPci.NotifyOffset + 4, 2, 1);
        Assert.True(_device.NeedsReset);
        Assert.Contains("DescriptorOutsideDma", _device.ResetReason);
        Assert.NotEqual(0, driver.DeviceStatus & VirtioPci.StatusDeviceNeedsReset);
    }

    [Fact]
    public void TxHeaderAskingForChecksum_IsCompletedAsAnError()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        Common(VirtioPci.QueueSelect, 2, 1);
        ulong desc = Common(VirtioPci.QueueDesc, 8), avail = Common(VirtioPci.QueueDriver, 8);
        driver.Pool.TryRent(out int slot);
        driver.Pool.Slot(slot)[0] = VirtioPci.HdrFlagNeedsCsum; // CSUM was never negotiated
        _memory.TryWrite(desc, BitConverter.GetBytes(driver.Pool.Iova(slot)));
        _memory.TryWrite(desc + 8, BitConverter.GetBytes(12u + 64));
        _memory.TryWrite(avail + 4, new byte[2]);
        _memory.TryWrite(avail + 2, BitConverter.GetBytes((ushort)1));
        F.WriteBar(VirtioPci.ModernBar, VirtioPci.NotifyOffset + 4, 2, 1);
        Assert.Equal(1, _device.Stats.TxErrorsCount);
        Assert.Equal(0, _device.Stats.TxPacketsCount);
        Assert.False(_device.NeedsReset);
    }

    [Fact]
    public void CarrierDown_LinkStatusReadsDown()
    {
        VirtioNetDriver driver = VirtioNetDriver.BringUp(F, _memory, _owner);
        _wire.SetCarrier(false);
        Assert.False(driver.LinkUp);
    }
}
