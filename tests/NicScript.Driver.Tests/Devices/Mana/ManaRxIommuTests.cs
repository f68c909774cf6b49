using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>The MANA VF's receive side and queue memory reach DMA memory only through its IOMMU domain: an RQ WQE whose SGE
/// points outside it (another owner's buffer, a range running past the driver's, a buffer freed or only borrowed) completes
/// with an error CQE, writes nothing and is a counted DMA fault; a DMA region listing a page outside it is refused.</summary>
public sealed class ManaRxIommuTests : IDisposable
{
    private readonly Machine _machine = DefaultMachine.Create();
    private readonly DmaOwner _owner, _victim;
    private readonly ManaDevice _vf;
    private readonly ManaDriver _driver;
    private readonly DmaRegion _secret;

    public ManaRxIommuTests()
    {
        _owner = _machine.Dma.CreateOwner("driver", 64 << 20);
        _victim = _machine.Dma.CreateOwner("victim", 1 << 20);
        _vf = _machine.Devices.OfType<ManaDevice>().Single();
        _driver = new ManaDriver(_vf.Function, _machine.Dma, _owner);
        _driver.BringUp();
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_victim, 4096, out _secret));
        _secret.DeviceSpan.Fill(0x5E);
    }

    public void Dispose()
    {
        _driver.Dispose();
        _machine.Dispose();
    }

    private static byte[] Frame(int length)
    {
        var f = new byte[length];
        for (int i = 0; i < length; i++) f[i] = (byte)(i + 1);
        return f;
    }

    private static bool All(DmaRegion r, byte value) => r.DeviceSpan.IndexOfAnyExcept(value) < 0;

    /// <summary>Points the SGE of the RQ WQE the device fills next at [<paramref name="address"/>, +<paramref name="size"/>), as a
    /// driver writing its own ring may.</summary>
    private void AimNextRxWqe(ulong address, uint size)
    {
        GdmaQueue rq = _vf.Queues.Single(q => q.Type == GdmaQueueType.Rq && q.Id == _driver.Queues!.RqId);
        Span<byte> sge = rq.Region.Bytes(rq.Head % (uint)rq.Size + 16, GdmaSgeWriter.WireSize);
        Assert.False(sge.IsEmpty);
        var w = new GdmaSgeWriter(sge);
        w.Address = address;
        w.MemKey = ManaRegisters.GpaMkey;
        w.Size = size;
    }

    /// <summary>A frame from the wire, then the driver reaps its RQ CQE: true for RX_OKAY, false for an error CQE.</summary>
    private bool Receive(int length)
    {
        ManaQueuePair q = _driver.Queues!;
        long errors = q.RxErrors;
        int frames = 0;
        _vf.Receive(Frame(length));
        Assert.Equal(1, q.PollRx(_ => frames++));
        Assert.Equal(frames == 0, q.RxErrors == errors + 1);
        return frames == 1;
    }

    private DmaRegion Mine(int bytes = 4096)
    {
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_owner, bytes, out DmaRegion r));
        return r;
    }

    [Fact]
    public void RxSgeAtAnotherOwnersBuffer_CompletesWithAnErrorCqe_AndWritesNothing()
    {
        AimNextRxWqe(_secret.Iova, 2048);
        Assert.False(Receive(64));
        Assert.True(All(_secret, 0x5E));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
        Assert.Equal(1, _vf.Stats.RxErrorsCount);
        Assert.Equal(0, _vf.Stats.RxFramesCount);
        Assert.True(Receive(64)); // the ring goes on with the driver's own buffers
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeInsideAnotherOwnersBuffer_AtItsLastBytes_IsAFaultToo()
    {
        AimNextRxWqe(_secret.Iova + 4096 - 64, 64);
        Assert.False(Receive(64));
        Assert.True(All(_secret, 0x5E));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeRunningPastTheEndOfTheDriversBuffer_IsAFault_AndWritesNoPartOfTheFrame()
    {
        DmaRegion mine = Mine();
        mine.DeviceSpan.Fill(0xAA);
        AimNextRxWqe(mine.Iova + 4096 - 63, 2048); // the 64-byte frame would end one byte past the region
        Assert.False(Receive(64));
        Assert.True(All(mine, 0xAA));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeEndingExactlyAtTheEndOfTheDriversBuffer_IsFilled()
    {
        DmaRegion mine = Mine();
        AimNextRxWqe(mine.Iova + 4096 - 64, 64);
        Assert.True(Receive(64));
        Assert.Equal(Frame(64), mine.DeviceSpan[^64..].ToArray());
        Assert.Equal(0, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeWhoseBufferWasFreedBeforeTheFrameArrived_CompletesWithAnErrorCqe()
    {
        DmaRegion mine = Mine();
        AimNextRxWqe(mine.Iova, 2048);
        Assert.Equal(DmaError.None, _machine.Dma.Free(_owner, mine));
        Assert.False(Receive(64));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeWhoseBufferWasGivenAwayBeforeTheFrameArrived_WritesNothingIntoIt()
    {
        DmaRegion mine = Mine();
        AimNextRxWqe(mine.Iova, 2048);
        Assert.Equal(DmaError.None, mine.Transfer(_owner, _victim));
        mine.DeviceSpan.Fill(0x5E);
        Assert.False(Receive(64));
        Assert.True(All(mine, 0x5E));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void RxSgeAtABufferTheDriverOnlyBorrows_IsAFault_TheLoanIsReadOnly()
    {
        Assert.Equal(DmaError.None, _secret.Lend(_victim, _owner));
        AimNextRxWqe(_secret.Iova, 2048);
        Assert.False(Receive(64));
        Assert.True(All(_secret, 0x5E));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Theory]
    [InlineData(ulong.MaxValue - 15, 2048u)] // address + length wraps 2^64
    [InlineData(0ul, 2048u)]                 // below every region
    [InlineData(0x1_0000_0000ul - 1, 64u)]   // the byte before the IOVA space starts
    public void RxSgeOutsideAnyRegion_CompletesWithAnErrorCqe(ulong address, uint size)
    {
        AimNextRxWqe(address, size);
        Assert.False(Receive(64));
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void ZeroLengthRxSgeAtAnotherOwnersBuffer_CompletesWithAnError_AndWritesNothing()
    {
        AimNextRxWqe(_secret.Iova, 0);
        Assert.False(Receive(64));
        Assert.True(All(_secret, 0x5E));
    }

    [Fact]
    public void DmaRegionListingAnotherOwnersPage_IsRefused_AndCounted()
    {
        long faults = _vf.Stats.DmaFaultsCount;
        ManaRequestException e = Assert.Throws<ManaRequestException>(() => _driver.CreateDmaRegion(_secret));
        Assert.Equal(ManaRegisters.StatusInvalidParameter, e.Status);
        Assert.Equal(faults + 1, _vf.Stats.DmaFaultsCount);
        Assert.True(All(_secret, 0x5E));
    }

    [Fact]
    public void DmaRegionListingAFreedPage_IsRefused()
    {
        DmaRegion mine = Mine();
        Assert.Equal(DmaError.None, _machine.Dma.Free(_owner, mine));
        Assert.Equal(ManaRegisters.StatusInvalidParameter, Assert.Throws<ManaRequestException>(() => _driver.CreateDmaRegion(mine)).Status);
    }

    [Fact]
    public void RxRingGivenAwayAfterCreation_StopsTheQueue_AndTheFrameIsNotWrittenAnywhere()
    {
        GdmaQueue rq = _vf.Queues.Single(q => q.Type == GdmaQueueType.Rq && q.Id == _driver.Queues!.RqId);
        DmaRegion ring = _machine.Dma.Regions.Single(r => r.Owner == _owner && Contains(r, rq));
        Assert.Equal(DmaError.None, ring.Transfer(_owner, _victim));
        ring.DeviceSpan.Fill(0x5E);
        _vf.Receive(Frame(64));
        Assert.True(All(ring, 0x5E));
        Assert.Equal(0, _vf.Stats.RxFramesCount);
        Assert.True(_vf.Stats.DmaFaultsCount >= 1);
    }

    /// <summary>Whether <paramref name="r"/> is the memory under the queue's first page (its bytes are the ring's).</summary>
    private static bool Contains(DmaRegion r, GdmaQueue q)
    {
        Span<byte> page = q.Region.Bytes(0, 8, write: false);
        nint at = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(r.DeviceSpan), ref MemoryMarshal.GetReference(page));
        return at >= 0 && at < r.Length;
    }
}
