using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Tests.Devices.Virtio;

/// <summary>A chain popped while its buffers were in the domain, then reached after they left it: every access asks the
/// domain again, so a transfer, a revoked loan or a free between pop and use is a fault, not a read or write.</summary>
public sealed class DescriptorChainIommuTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _driver, _other;
    private readonly IommuDomain _domain;
    private readonly SplitVirtqueueDriver _q;
    private readonly SplitVirtqueue _device;
    private readonly DescriptorChain _chain = new(4);
    private readonly DmaRegion _buffer;

    public DescriptorChainIommuTests()
    {
        _driver = _memory.CreateOwner("driver", 1 << 20);
        _other = _memory.CreateOwner("other", 1 << 20);
        _domain = new IommuDomain(_memory, "0000:00:07.0");
        _domain.Attach(_driver);
        Assert.Equal(DmaError.None, SplitVirtqueueDriver.TryCreate(_memory, _driver, 8, false, out _q));
        Assert.Equal(VirtqFault.None, SplitVirtqueue.TryCreate(_domain, 8, _q.DescIova, _q.AvailIova, _q.UsedIova, false, false, out _device));
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 4096, out _buffer));
    }

    public void Dispose() => _memory.Dispose();

    private void PopOne(bool writable)
    {
        Assert.True(_q.TryAdd(_buffer.Iova, 256, writable, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.None, _device.TryPop(_chain, out bool popped));
        Assert.True(popped);
        Assert.Equal(256, _chain.Segment(0).Length);
    }

    [Fact]
    public void TransferredAwayAfterThePop_TheNextAccessFaults()
    {
        PopOne(writable: true);
        Assert.Equal(DmaError.None, _buffer.Transfer(_driver, _other));
        Assert.True(_chain.Segment(0).IsEmpty);
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void FreedAfterThePop_TheNextAccessFaults()
    {
        PopOne(writable: false);
        Assert.Equal(DmaError.None, _memory.Free(_driver, _buffer));
        Assert.True(_chain.Segment(0).IsEmpty);
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void ABorrowedBuffer_PopsAsReadable_ButAsWritableFaultsAtThePop()
    {
        Assert.Equal(DmaError.None, _memory.TryAllocate(_other, 4096, out DmaRegion lent));
        Assert.Equal(DmaError.None, lent.Lend(_other, _driver));
        Assert.True(_q.TryAdd(lent.Iova, 64, deviceWritable: false, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.None, _device.TryPop(_chain, out _));
        Assert.True(_q.TryAdd(lent.Iova, 64, deviceWritable: true, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, _device.TryPop(_chain, out _));
        Assert.True(_chain.Faulted);
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void RingsTransferredAway_StopTheQueue()
    {
        Assert.Equal(DmaError.None, _q.Rings.Transfer(_driver, _other));
        Assert.True(_device.RingsLost);
        Assert.Equal(VirtqFault.RingOutsideDma, _device.TryPop(_chain, out _));
        Assert.False(_device.PublishUsed());
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void DriverDetached_StopsTheQueue()
    {
        _domain.Evict(_driver);
        Assert.Equal(VirtqFault.RingOutsideDma, _device.TryPop(_chain, out _));
    }

    // The queue remembers the region its last one-descriptor chain was found in; these hold that shortcut to the same rule.

    [Fact]
    public void TheNextBufferInARegionTransferredAwaySinceTheLastPop_FaultsAtThePop()
    {
        PopOne(writable: false);
        Assert.Equal(DmaError.None, _buffer.Transfer(_driver, _other));
        Assert.True(_q.TryAdd(_buffer.Iova + 512, 256, false, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, _device.TryPop(_chain, out bool popped));
        Assert.False(popped);
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void ABufferRunningPastTheEndOfTheLastPopsRegion_FaultsAtThePop()
    {
        PopOne(writable: false);
        Assert.True(_q.TryAdd(_buffer.Iova + 4096 - 128, 256, false, out _)); // starts inside, ends in the next page
        _q.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, _device.TryPop(_chain, out _));
        Assert.Equal(1, _domain.Faults);
    }

    [Fact]
    public void AWritableBufferInARegionTheLastPopOnlyRead_IsCheckedForWritingAtThePop()
    {
        Assert.Equal(DmaError.None, _memory.TryAllocate(_other, 4096, out DmaRegion lent));
        Assert.Equal(DmaError.None, lent.Lend(_other, _driver)); // the domain may read it, not write it
        Assert.True(_q.TryAdd(lent.Iova, 64, false, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.None, _device.TryPop(_chain, out bool popped));
        Assert.True(popped);
        Assert.True(_q.TryAdd(lent.Iova + 64, 64, true, out _));
        _q.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, _device.TryPop(_chain, out _));
        Assert.Equal(1, _domain.Faults);
    }
}
