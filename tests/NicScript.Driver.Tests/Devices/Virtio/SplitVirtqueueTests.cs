using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Tests.Devices.Virtio;

/// <summary>Real rings in real DMA memory: the driver side writes them, the device side reads them.</summary>
public sealed class SplitVirtqueueTests : IDisposable
{
    private const int QueueSize = 8;
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _owner;
    private readonly DmaRegion _buffers;
    private readonly DescriptorChain _chain = new(16);
    private readonly IommuDomain _domain;

    public SplitVirtqueueTests()
    {
        _owner = _memory.CreateOwner("driver", 1 << 20);
        _domain = new IommuDomain(_memory, "0000:00:05.0");
        _domain.Attach(_owner);
        Assert.Equal(DmaError.None, _memory.TryAllocate(_owner, 64 * 1024, out _buffers));
    }

    public void Dispose() => _memory.Dispose();

    private (SplitVirtqueueDriver Driver, SplitVirtqueue Device) Queue(bool eventIdx = false, bool indirect = true)
    {
        Assert.Equal(DmaError.None, SplitVirtqueueDriver.TryCreate(_memory, _owner, QueueSize, eventIdx, out var driver));
        Assert.Equal(VirtqFault.None, SplitVirtqueue.TryCreate(_domain, QueueSize, driver.DescIova, driver.AvailIova, driver.UsedIova, eventIdx, indirect, out var device));
        return (driver, device);
    }

    private ulong Buf(int offset) => _buffers.Iova + (ulong)offset;

    private VirtqFault Pop(SplitVirtqueue device, out bool popped) => device.TryPop(_chain, out popped);

    [Fact]
    public void SingleBuffer_PopsWithItsAddressAndLength_ThenCompletes()
    {
        var (driver, device) = Queue();
        Assert.True(driver.TryAdd(Buf(0), 100, deviceWritable: false, out ushort head));
        driver.Publish();
        Assert.Equal(VirtqFault.None, Pop(device, out bool popped));
        Assert.True(popped);
        Assert.Equal((head, 1, Buf(0), 100, 100), (_chain.Head, _chain.Count, _chain.Address(0), _chain.Length(0), _chain.ReadableBytes));
        device.PushUsed(head, 0);
        Assert.Equal(0, driver.UsedPending); // not published yet
        device.PublishUsed();
        Assert.True(driver.TryGetUsed(out ushort got, out uint len));
        Assert.Equal((head, 0u), (got, len));
        Assert.Equal(QueueSize, driver.FreeCount);
    }

    [Fact]
    public void BufferBurst_TakesLoneBuffersInTheCachedRegion_AndStopsAtTheFirstOtherChain()
    {
        var (driver, device) = Queue();
        ushort[] heads = new ushort[8];
        nint[] at = new nint[8];
        int[] lengths = new int[8];
        Assert.True(driver.TryAdd(Buf(0), 100, deviceWritable: false, out ushort first));
        driver.Publish();
        Assert.Equal(0, device.TryPopBuffers(false, 20, 2048, heads, at, lengths)); // no region cached yet: nothing taken
        Assert.Equal(VirtqFault.None, Pop(device, out bool popped)); // the checked pop finds the region
        Assert.True(popped);
        device.PushUsed(first, 0);
        Assert.True(driver.TryAdd(Buf(2048), 60, false, out ushort a));
        Assert.True(driver.TryAdd(Buf(4096), 70, false, out ushort b));
        Assert.True(driver.TryAdd(Buf(6144), 10, false, out _)); // too short for the burst's minimum
        Assert.True(driver.TryAdd(Buf(8192), 80, false, out _));
        driver.Publish();
        Assert.Equal(2, device.TryPopBuffers(false, 20, 2048, heads, at, lengths));
        Assert.Equal((a, b, 60, 70), (heads[0], heads[1], lengths[0], lengths[1]));
        unsafe
        {
            Assert.Equal((nint)_buffers.Pointer + 2048, at[0]);
            Assert.Equal((nint)_buffers.Pointer + 4096, at[1]);
        }
        Assert.Equal(0, device.TryPopBuffers(false, 20, 2048, heads, at, lengths)); // the short one blocks the burst path ...
        Assert.Equal(VirtqFault.None, Pop(device, out popped)); // ... and the checked pop takes it, in order
        Assert.Equal((Buf(6144), 10), (_chain.Address(0), _chain.Length(0)));
        Assert.Equal(0, device.TryPopBuffers(true, 20, 2048, heads, at, lengths)); // wrong direction: not taken
        Assert.Equal(1, device.TryPopBuffers(false, 20, 2048, heads, at, lengths));
        device.PushUsed(heads.AsSpan(0, 1), [42]);
        device.PublishUsed();
        var reaped = new List<(ushort, uint)>();
        while (driver.TryGetUsed(out ushort h, out uint len)) reaped.Add((h, len));
        Assert.Equal(2, reaped.Count); // the first, and the last pushed with its length
        Assert.Equal(42u, reaped[1].Item2);
    }

    [Fact]
    public void BufferBurst_AfterARevocation_TakesNothingUntilTheCheckedPopLooksAgain()
    {
        var (driver, device) = Queue();
        ushort[] heads = new ushort[8];
        nint[] at = new nint[8];
        int[] lengths = new int[8];
        Assert.True(driver.TryAdd(Buf(0), 100, false, out _));
        Assert.True(driver.TryAdd(Buf(2048), 100, false, out _));
        driver.Publish();
        Assert.Equal(VirtqFault.None, Pop(device, out _));
        _memory.Free(_owner, _buffers); // the buffers' region leaves the domain
        Assert.Equal(0, device.TryPopBuffers(false, 20, 2048, heads, at, lengths));
        Assert.Equal(VirtqFault.DescriptorOutsideDma, Pop(device, out _));
    }

    [Fact]
    public void Chain_ReadableThenWritable_PopsAllSegmentsInOrder()
    {
        var (driver, device) = Queue();
        Assert.True(driver.TryAddChain([Buf(0), Buf(4096), Buf(8192)], [12, 1500, 300], [false, true, true], out _));
        driver.Publish();
        Pop(device, out _);
        Assert.Equal(3, _chain.Count);
        Assert.Equal((12, 1800), (_chain.ReadableBytes, _chain.WritableBytes));
        Assert.Equal(Buf(8192), _chain.Address(2));
        Assert.Equal(QueueSize - 3, driver.FreeCount);
    }

    [Fact]
    public void Indirect_TableInDmaMemory_PopsItsEntries()
    {
        var (driver, device) = Queue();
        // An indirect table of two entries written at Buf(16384).
        Span<byte> table = _buffers.DeviceSpan.Slice(16384, 32);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(table, Buf(0));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(table[8..], 10);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(table[12..], VirtqLayout.DescFlagNext);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(table[14..], 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(table[16..], Buf(100));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(table[24..], 20);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(table[28..], VirtqLayout.DescFlagWrite);
        Assert.True(driver.TryAddIndirect(Buf(16384), 2, out _));
        driver.Publish();
        Assert.Equal(VirtqFault.None, Pop(device, out bool popped));
        Assert.True(popped);
        Assert.Equal((2, 10, 20), (_chain.Count, _chain.ReadableBytes, _chain.WritableBytes));
    }

    [Fact]
    public void Indirect_NotNegotiated_IsAFault()
    {
        var (driver, device) = Queue(indirect: false);
        driver.TryAddIndirect(Buf(16384), 1, out _);
        driver.Publish();
        Assert.Equal(VirtqFault.IndirectNotNegotiated, Pop(device, out _));
    }

    [Fact]
    public void Indirect_BadLength_IsAFault()
    {
        var (driver, device) = Queue();
        driver.WriteDesc(0, Buf(16384), 24, VirtqLayout.DescFlagIndirect, 0); // not a multiple of 16
        driver.Offer(0);
        driver.Publish();
        Assert.Equal(VirtqFault.BadIndirectTable, Pop(device, out _));
    }

    [Fact]
    public void Indirect_Nested_IsAFault()
    {
        var (driver, device) = Queue();
        Span<byte> table = _buffers.DeviceSpan.Slice(16384, 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(table, Buf(16384));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(table[8..], 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(table[12..], VirtqLayout.DescFlagIndirect);
        driver.TryAddIndirect(Buf(16384), 1, out _);
        driver.Publish();
        Assert.Equal(VirtqFault.NestedIndirect, Pop(device, out _));
    }

    [Fact]
    public void Descriptor_OutsideDma_IsAFaultAndConsumesNothing()
    {
        var (driver, device) = Queue();
        driver.TryAdd(0xdead_0000, 64, false, out _);
        driver.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, Pop(device, out bool popped));
        Assert.False(popped);
        Assert.Equal(0, device.NextAvail);
    }

    [Fact]
    public void Descriptor_RunningPastItsRegion_IsAFault()
    {
        var (driver, device) = Queue();
        driver.TryAdd(Buf(64 * 1024 - 10), 64, false, out _);
        driver.Publish();
        Assert.Equal(VirtqFault.DescriptorOutsideDma, Pop(device, out _));
    }

    [Fact]
    public void Chain_Loop_IsAFault()
    {
        var (driver, device) = Queue();
        driver.WriteDesc(0, Buf(0), 8, VirtqLayout.DescFlagNext, 1);
        driver.WriteDesc(1, Buf(8), 8, VirtqLayout.DescFlagNext, 0); // 1 -> 0 -> 1 ...
        driver.Offer(0);
        driver.Publish();
        Assert.Equal(VirtqFault.ChainLoop, Pop(device, out _));
    }

    [Fact]
    public void Next_OutOfRange_IsAFault()
    {
        var (driver, device) = Queue();
        driver.WriteDesc(0, Buf(0), 8, VirtqLayout.DescFlagNext, QueueSize);
        driver.Offer(0);
        driver.Publish();
        Assert.Equal(VirtqFault.DescriptorIndexOutOfRange, Pop(device, out _));
    }

    [Fact]
    public void Head_OutOfRange_IsAFault()
    {
        var (driver, device) = Queue();
        driver.Offer(QueueSize + 3);
        driver.Publish();
        Assert.Equal(VirtqFault.DescriptorIndexOutOfRange, Pop(device, out _));
    }

    [Fact]
    public void AvailIndex_RunningAhead_IsAFault()
    {
        var (driver, device) = Queue();
        driver.WriteAvailIdx(QueueSize + 1);
        Assert.Equal(VirtqFault.AvailIndexRunsAhead, Pop(device, out _));
    }

    [Fact]
    public void ReadableAfterWritable_IsAFault()
    {
        var (driver, device) = Queue();
        driver.TryAddChain([Buf(0), Buf(100)], [10, 10], [true, false], out _);
        driver.Publish();
        Assert.Equal(VirtqFault.ReadableAfterWritable, Pop(device, out _));
    }

    [Fact]
    public void Rings_OutsideDma_AreRefusedAtSetup() =>
        Assert.Equal(VirtqFault.RingOutsideDma, SplitVirtqueue.TryCreate(_domain, QueueSize, 0x10, 0x1000, 0x2000, false, false, out _));

    [Fact]
    public void RingsFreedUnderTheDevice_FailClosed()
    {
        var (driver, device) = Queue();
        Assert.Equal(DmaError.None, _memory.Free(_owner, driver.Rings));
        Assert.Equal(VirtqFault.RingOutsideDma, Pop(device, out _));
        Assert.False(device.PublishUsed());
    }

    [Fact]
    public void NoInterruptFlag_SuppressesInterrupt()
    {
        var (driver, device) = Queue();
        driver.TryAdd(Buf(0), 8, true, out ushort head);
        driver.Publish();
        Pop(device, out _);
        driver.SetInterrupts(enable: false);
        device.PushUsed(head, 8);
        Assert.False(device.PublishUsed());
    }

    [Fact]
    public void EventIndex_InterruptsOnlyWhenUsedPassesUsedEvent()
    {
        var (driver, device) = Queue(eventIdx: true);
        for (int i = 0; i < 4; i++) driver.TryAdd(Buf(i * 64), 64, true, out _);
        driver.Publish();
        driver.SetInterrupts(true); // used_event = 0: interrupt when used goes past 0
        Pop(device, out _);
        device.PushUsed(_chain.Head, 1);
        Assert.True(device.PublishUsed());  // 0 -> 1 passes used_event 0
        Pop(device, out _);
        device.PushUsed(_chain.Head, 1);
        Assert.False(device.PublishUsed()); // driver has not reaped: used_event still 0, 1 -> 2 does not cross it
        Assert.True(driver.TryGetUsed(out _, out _)); // reaping moves used_event along: 1, then 2
        Assert.True(driver.TryGetUsed(out _, out _));
        Pop(device, out _);
        device.PushUsed(_chain.Head, 1);
        Assert.True(device.PublishUsed());
    }

    [Fact]
    public void EventIndex_DeviceAvailEvent_SuppressesKicks()
    {
        var (driver, device) = Queue(eventIdx: true);
        device.SetNotification(true); // avail_event = 0
        driver.TryAdd(Buf(0), 8, false, out _);
        Assert.True(driver.Publish()); // 0 -> 1 crosses avail_event 0
        driver.TryAdd(Buf(8), 8, false, out _);
        Assert.False(driver.Publish()); // the device has not asked again
    }

    [Fact]
    public void UsedId_DriverNeverGave_IsRefused()
    {
        var (driver, device) = Queue();
        device.PushUsed(5, 0); // a lying device
        device.PublishUsed();
        Assert.False(driver.TryGetUsed(out _, out _));
    }

    [Fact]
    public void Wraparound_ManyRoundsThroughSmallRing_KeepsOrder()
    {
        var (driver, device) = Queue();
        for (int round = 0; round < 70_000; round++) // past the 16-bit index wrap
        {
            Assert.True(driver.TryAdd(Buf(round % 100), 1, false, out ushort head));
            driver.Publish();
            Assert.Equal(VirtqFault.None, Pop(device, out bool popped));
            Assert.True(popped);
            Assert.Equal(head, _chain.Head);
            device.PushUsed(head, (uint)round);
            device.PublishUsed();
            Assert.True(driver.TryGetUsed(out _, out uint len));
            Assert.Equal((uint)round, len);
        }
    }
}
