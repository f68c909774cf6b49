using NicScript.Driver.Time;
using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Dpu;

/// <summary>An elastic NIC reaches the host's memory only through its function's IOMMU domain. A transmit descriptor (or an
/// indirect table) outside it is the vport's TX error (dpu.md §5.3): completed unsent, the queue goes on, nothing reaches
/// the switch or the optical port. A receive buffer outside it is a ring fault: DEVICE_NEEDS_RESET, the frame is dropped
/// and the foreign buffer untouched. Each is a counted DMA fault.</summary>
public sealed class ElasticNicIommuTests : IDisposable
{
    private static readonly byte[] Mac = [2, 0x4e, 0x53, 0, 0, 0];
    private readonly Machine _machine = DefaultMachine.Create();
    private readonly DpuDevice _dpu;
    private readonly VirtioNetDevice _nic;
    private readonly VirtioCaps _caps;
    private readonly DmaAttachment _attached;
    private readonly SplitVirtqueueDriver _rx, _tx;
    private readonly DmaOwner _host, _victim;
    private readonly DmaRegion _mine, _secret;
    private readonly List<byte[]> _optical = new();

    public ElasticNicIommuTests()
    {
        _dpu = new DpuDevice(_machine, new DpuConfig(), VirtioDpuFunctions.Instance, new ManualClock());
        Assert.True(_dpu.AddElasticNic(0, Mac, 1500));
        _nic = (VirtioNetDevice)_dpu.ElasticNic(0)!.Model;
        Assert.True(_machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        _host = _machine.Dma.CreateOwner("host", 16 << 20);
        _victim = _machine.Dma.CreateOwner("victim", 1 << 20);
        _caps = VirtioCaps.Open(f, VirtioPci.SubsystemNet, "virtio-net");
        _attached = _caps.AttachDma(_host);
        _caps.Negotiate(1UL << VirtioPci.FeatureVersion1 | 1UL << VirtioPci.FeatureIndirectDesc);
        _rx = _caps.SetUpQueue(0, _machine.Dma, _host, 16, eventIdx: false, VirtioPci.NoVector, interrupts: false);
        _tx = _caps.SetUpQueue(1, _machine.Dma, _host, 16, eventIdx: false, VirtioPci.NoVector, interrupts: false);
        _caps.DriverOk();
        _dpu.Switch.OpticalWire(0).Capture(new Sink(_optical));
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_host, 8192, out _mine));
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_victim, 4096, out _secret));
        Frame().CopyTo(_mine.DeviceSpan);
        _secret.DeviceSpan.Fill(0x5E);
        Frame().CopyTo(_secret.DeviceSpan); // a well-formed frame: only ownership stands in the way
    }

    public void Dispose()
    {
        _attached.Dispose();
        _machine.Dispose();
    }

    /// <summary>virtio_net_hdr (12 zero bytes), then a broadcast Ethernet frame of 60 bytes.</summary>
    private static byte[] Frame()
    {
        var f = new byte[12 + 60];
        f.AsSpan(12, 6).Fill(0xFF);
        Mac.CopyTo(f, 18);
        f[24] = 0x88;
        f[25] = 0xB5;
        return f;
    }

    private DpuPortCounters Vport => _dpu.Switch.HostCounters(0)!;
    private bool NeedsReset => (_caps.ReadStatus() & VirtioPci.StatusDeviceNeedsReset) != 0;
    private bool SecretIntact => _secret.DeviceSpan[72..].IndexOfAnyExcept((byte)0x5E) < 0 && _secret.DeviceSpan[..72].SequenceEqual(Frame());

    /// <summary>Publishes what was added to the TX queue, rings, and says whether the device completed one chain.</summary>
    private bool Kick()
    {
        _tx.Publish();
        _caps.Notify(1);
        return _tx.TryGetUsed(out _, out _);
    }

    private void Send(ulong iova, int length)
    {
        Assert.True(_tx.TryAdd(iova, length, deviceWritable: false, out _));
        Assert.True(Kick(), "the device did not complete the chain");
    }

    private void AssertTxError(int faults = 1)
    {
        Assert.Equal(1, _nic.Stats.TxErrorsCount);       // the vport's tx_error (the agent adds it to the switch's)
        Assert.Equal(0, _nic.Stats.TxPacketsCount);
        Assert.Equal(0, Vport.TxPacketsCount);           // nothing reached the switch
        Assert.Empty(_optical);
        Assert.False(NeedsReset);                        // a frame's error, not the ring's
        Assert.Equal(faults, _nic.Dma.Faults);
        Send(_mine.Iova, 72);                            // the queue goes on
        Assert.Equal(1, Vport.TxPacketsCount);
        Assert.Single(_optical);
    }

    [Fact]
    public void TxDescriptorAtAnotherOwnersIova_IsATxError_AndNothingLeaves()
    {
        Send(_secret.Iova, 72);
        AssertTxError();
        Assert.DoesNotContain(_optical, f => f.AsSpan().IndexOf(new byte[] { 0x5E, 0x5E, 0x5E, 0x5E }) >= 0);
    }

    [Theory]
    [InlineData(8192 - 71, 72)]  // one byte past the end of the host's buffer
    [InlineData(8192, 72)]       // starts at the end
    public void TxDescriptorRunningPastTheHostsBuffer_IsATxError(int offset, int length)
    {
        Send(_mine.Iova + (ulong)offset, length);
        AssertTxError();
    }

    [Fact]
    public void TxDescriptorEndingExactlyAtTheEndOfTheHostsBuffer_IsSent()
    {
        Frame().CopyTo(_mine.DeviceSpan[(8192 - 72)..]);
        Send(_mine.Iova + 8192 - 72, 72);
        Assert.Equal((0L, 1L), (_nic.Stats.TxErrorsCount, Vport.TxPacketsCount));
        Assert.Equal(0, _nic.Dma.Faults);
    }

    [Theory]
    [InlineData(ulong.MaxValue - 15, 72)] // address + length wraps 2^64
    [InlineData(0ul, 72)]
    public void TxDescriptorOutsideEveryRegion_IsATxError(ulong iova, int length)
    {
        Send(iova, length);
        AssertTxError();
    }

    [Fact]
    public void TxDescriptorWhoseBufferWasFreedBetweenPostAndDoorbell_IsATxError()
    {
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_host, 4096, out DmaRegion buffer));
        Frame().CopyTo(buffer.DeviceSpan);
        Assert.True(_tx.TryAdd(buffer.Iova, 72, deviceWritable: false, out _));
        Assert.Equal(DmaError.None, _machine.Dma.Free(_host, buffer));
        Assert.True(Kick());
        AssertTxError();
    }

    [Fact]
    public void TxDescriptorWhoseBufferWasGivenAwayBeforeTheDoorbell_IsATxError_AndItsBytesStay()
    {
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_host, 4096, out DmaRegion buffer));
        Frame().CopyTo(buffer.DeviceSpan);
        Assert.True(_tx.TryAdd(buffer.Iova, 72, deviceWritable: false, out _));
        Assert.Equal(DmaError.None, buffer.Transfer(_host, _victim));
        Assert.True(Kick());
        AssertTxError();
    }

    [Fact]
    public void IndirectTableAtAnotherOwnersIova_IsATxError()
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_secret.DeviceSpan[2048..], _mine.Iova); // a table the victim holds, naming our frame
        BinaryPrimitives.WriteUInt32LittleEndian(_secret.DeviceSpan[2056..], 72);
        Assert.True(_tx.TryAddIndirect(_secret.Iova + 2048, 1, out _));
        Assert.True(Kick());
        AssertTxError();
    }

    [Fact]
    public void IndirectEntryAtAnotherOwnersIova_IsATxError()
    {
        Span<byte> table = _mine.DeviceSpan[4096..];
        table[..16].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(table, _secret.Iova);
        BinaryPrimitives.WriteUInt32LittleEndian(table[8..], 72);
        Assert.True(_tx.TryAddIndirect(_mine.Iova + 4096, 1, out _));
        Assert.True(Kick());
        AssertTxError();
    }

    [Fact]
    public void RxBufferAtAnotherOwnersIova_NeedsReset_DropsTheFrame_AndLeavesTheBufferUntouched()
    {
        Assert.True(_rx.TryAdd(_secret.Iova, 2048, deviceWritable: true, out _));
        _rx.Publish();
        Assert.False(_nic.Deliver(Frame().AsSpan(12)));
        Assert.True(NeedsReset);
        Assert.True(SecretIntact);
        Assert.Equal(0, _nic.Stats.RxPacketsCount);
        Assert.Equal(1, _nic.Dma.Faults);
    }

    [Fact]
    public void RxBufferFromTheOpticalPort_AtAnotherOwnersIova_CountsARxDropOnTheVport()
    {
        Assert.True(_rx.TryAdd(_secret.Iova, 2048, deviceWritable: true, out _));
        _rx.Publish();
        byte[] frame = Frame().AsSpan(12).ToArray();
        Mac.CopyTo(frame, 0); // to the vport's MAC, from outside
        frame[6] = 0x02;
        frame[11] = 0x99;
        _dpu.Switch.OpticalWire(0).Attach(new NullReceiver()).Transmit(frame);
        Assert.True(SecretIntact);
        Assert.Equal((0L, 1L), (Vport.RxPacketsCount, Vport.RxDropCount));
        Assert.True(NeedsReset);
        Assert.Equal(1, _nic.Dma.Faults);
    }

    [Fact]
    public void RxBufferTheHostOnlyBorrows_IsAFault_TheLoanIsReadOnly()
    {
        Assert.Equal(DmaError.None, _secret.Lend(_victim, _host));
        Assert.True(_rx.TryAdd(_secret.Iova, 2048, deviceWritable: true, out _));
        _rx.Publish();
        Assert.False(_nic.Deliver(Frame().AsSpan(12)));
        Assert.True(SecretIntact);
        Assert.Equal(1, _nic.Dma.Faults);
    }

    private sealed class Sink(List<byte[]> into) : ICaptureSink
    {
        public void Write(ReadOnlySpan<byte> frame)
        {
            lock (into) into.Add(frame.ToArray());
        }
    }

    private sealed class NullReceiver : IFrameReceiver
    {
        public void Receive(ReadOnlySpan<byte> frame)
        {
        }
    }
}
