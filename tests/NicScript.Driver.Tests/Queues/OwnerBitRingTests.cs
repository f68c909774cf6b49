using System.Buffers.Binary;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Tests.Queues;

public sealed class OwnerBitRingTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly OwnerBitRing<DmaRegionMemory> _ring;

    public OwnerBitRingTests()
    {
        DmaOwner owner = _memory.CreateOwner("cq", 1 << 20);
        _memory.TryAllocate(owner, 64 * 8, out DmaRegion region);
        _ring = new OwnerBitRing<DmaRegionMemory>(new DmaRegionMemory(region), entrySize: 64, count: 8, ownerWordOffset: 60, ownerShift: 29, ownerWidth: 3); // gdma_cqe
    }

    public void Dispose() => _memory.Dispose();

    private void Produce(int value)
    {
        Span<byte> e = _ring.Next();
        BinaryPrimitives.WriteInt32LittleEndian(e, value);
        _ring.Publish(e);
    }

    [Fact]
    public void FreshRing_IsEmpty() => Assert.Equal(OwnerBitResult.Empty, _ring.TryRead(out _));

    [Fact]
    public void Entries_AreReadInOrderAcrossManyLaps()
    {
        for (int i = 0; i < 8 * 20; i++) // 20 laps: the 3-bit owner counter wraps twice
        {
            Produce(i);
            Assert.Equal(OwnerBitResult.New, _ring.TryRead(out ReadOnlySpan<byte> e));
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(e));
            _ring.Advance();
            Assert.Equal(OwnerBitResult.Empty, _ring.TryRead(out _));
        }
    }

    [Fact]
    public void OwnerBits_AreTheLapPlusOne_AtBit29()
    {
        Produce(1);
        Assert.Equal(OwnerBitResult.New, _ring.TryRead(out ReadOnlySpan<byte> e));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(e[60..]) >> 29);
    }

    [Fact]
    public void Publish_WritesTheGivenWord_WithThisLapsOwnerBits()
    {
        Span<byte> e = _ring.Next();
        _ring.Publish(e, 0xE000_0123); // owner bits in the given word are replaced by the lap's
        Assert.Equal(OwnerBitResult.New, _ring.TryRead(out ReadOnlySpan<byte> got));
        Assert.Equal(1u << 29 | 0x123, BinaryPrimitives.ReadUInt32LittleEndian(got[60..]));
    }

    [Fact]
    public void ProducerLappingTheConsumer_IsAnOverflow()
    {
        for (int i = 0; i < 8 + 1; i++) Produce(i); // slot 0 now holds lap 2's entry while the consumer expects lap 1's
        Assert.Equal(OwnerBitResult.Overflow, _ring.TryRead(out _));
    }
}
