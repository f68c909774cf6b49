using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>The MANA VF's burst path on a loopback wire: frames leave as one batch with their CQEs after it, in WQE order;
/// a buffer region found once is reached by pointer only while nothing was revoked; nothing is allocated per frame.</summary>
public sealed class ManaBurstTests : IDisposable
{
    private readonly Machine _machine = DefaultMachine.Create();
    private readonly DmaOwner _owner;
    private readonly ManaDevice _vf;
    private readonly ManaDriver _driver;

    public ManaBurstTests()
    {
        _owner = _machine.Dma.CreateOwner("driver", 64 << 20);
        _vf = _machine.Devices.OfType<ManaDevice>().Single();
        _driver = new ManaDriver(_vf.Function, _machine.Dma, _owner);
        _driver.BringUp();
    }

    public void Dispose()
    {
        _driver.Dispose();
        _machine.Dispose();
    }

    private static byte[] Wqe(ManaQueuePair q, ulong address, uint size)
    {
        var w = new byte[32];
        var h = new GdmaWqeWriter(w);
        h.NumSge = 1;
        h.InlineOobSizeDiv4 = 2;
        var oob = new ManaTxShortOobWriter(w.AsSpan(8));
        oob.VcqNum = q.SqCqId;
        oob.VsqFrame = (ushort)(q.SqId >> 10 & 0x3FFF);
        var sge = new GdmaSgeWriter(w.AsSpan(16));
        sge.Address = address;
        sge.MemKey = ManaRegisters.GpaMkey;
        sge.Size = size;
        return w;
    }

    private DmaRegion Frame()
    {
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_owner, 4096, out DmaRegion r));
        Span<byte> s = r.DeviceSpan;
        _driver.Mac.CopyTo(s);
        _driver.Mac.CopyTo(s[6..]);
        return r;
    }

    [Fact]
    public void ABadWqeInABurst_CompletesInItsPlace_AndTheOthersGo()
    {
        ManaQueuePair q = _driver.Queues!;
        DmaRegion good = Frame();
        long rx = _vf.Stats.RxFramesCount;
        Assert.True(q.PostRaw(Wqe(q, good.Iova, 64)));
        Assert.True(q.PostRaw(Wqe(q, 0xDEAD_0000, 64))); // outside every region: a DMA fault
        Assert.True(q.PostRaw(Wqe(q, good.Iova, 64)));
        q.Flush();
        Assert.Equal(3, q.PollTx());
        Assert.Equal(1, q.TxErrors);
        Assert.Equal(2, _vf.Stats.TxFramesCount);
        Assert.Equal(rx + 2, _vf.Stats.RxFramesCount);
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void ARegionFreedAfterItWasFound_IsRefusedAtTheNextWqe()
    {
        ManaQueuePair q = _driver.Queues!;
        DmaRegion r = Frame();
        Assert.True(q.PostRaw(Wqe(q, r.Iova, 64)));
        q.Flush();
        Assert.Equal(1, q.PollTx());
        Assert.Equal(0, q.TxErrors); // found and remembered
        Assert.Equal(DmaError.None, _machine.Dma.Free(_owner, r));
        Assert.True(q.PostRaw(Wqe(q, r.Iova, 64)));
        q.Flush();
        Assert.Equal(1, q.PollTx());
        Assert.Equal(1, q.TxErrors); // the revocation count moved: asked again, refused, counted
        Assert.Equal(1, _vf.Stats.TxFramesCount);
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void TheFramePath_AllocatesNothingPerFrame()
    {
        ManaQueuePair q = _driver.Queues!;
        for (int i = 0; i < q.TxRoom; i++)
        {
            Span<byte> f = q.NextTxBuffer();
            _driver.Mac.CopyTo(f);
            _driver.Mac.CopyTo(f[6..]);
            Assert.True(q.Post(64));
        }
        q.Flush();
        long frames = 0;
        ManaQueuePair.FrameHandler count = _ => frames++;
        q.PollTx(1024);
        q.PollRx(count, 1024);
        void Round()
        {
            for (int i = 0; i < 32 && q.Post(64); i++) { }
            q.Flush();
            q.ProcessEvents();
            q.PollTx(64);
            q.PollRx(count, 64);
        }
        for (int i = 0; i < 8; i++) Round(); // every call made once before the count (type loading, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        frames = 0;
        for (int i = 0; i < 200; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(frames >= 200 * 16, $"{frames} frames came back");
        Assert.Equal(0, allocated);
        Assert.Equal(0, q.TxErrors + q.RxErrors);
    }
}
