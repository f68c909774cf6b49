using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>The MANA VF reaches DMA memory only through its IOMMU domain: a WQE whose SGE points at another owner's buffer
/// completes with an error CQE, sends nothing and is a counted DMA fault; a buffer lent to the driver may be sent until
/// the loan is revoked.</summary>
public sealed class ManaIommuTests : IDisposable
{
    private readonly Machine _machine = DefaultMachine.Create();
    private readonly DmaOwner _owner, _victim;
    private readonly ManaDevice _vf;
    private readonly ManaDriver _driver;
    private readonly DmaRegion _secret;

    public ManaIommuTests()
    {
        _owner = _machine.Dma.CreateOwner("driver", 64 << 20);
        _victim = _machine.Dma.CreateOwner("victim", 1 << 20);
        _vf = _machine.Devices.OfType<ManaDevice>().Single();
        _driver = new ManaDriver(_vf.Function, _machine.Dma, _owner);
        _driver.BringUp();
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_victim, 4096, out _secret));
        Span<byte> s = _secret.DeviceSpan;
        s.Fill(0x5E);
        _driver.Mac.CopyTo(s);
        _driver.Mac.CopyTo(s[6..]);
        s[12] = 0x88; s[13] = 0xB5; // a well-formed frame: only ownership stands in the way
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

    private void Send(ulong address, uint size)
    {
        ManaQueuePair q = _driver.Queues!;
        Assert.True(q.PostRaw(Wqe(q, address, size)));
        q.Flush();
        Assert.Equal(1, q.PollTx());
    }

    [Fact]
    public void SgeAtAnotherOwnersBuffer_CompletesWithAnErrorCqe_AndSendsNothing()
    {
        long rxBefore = _vf.Stats.RxFramesCount;
        Send(_secret.Iova, 64);
        Assert.Equal(1, _driver.Queues!.TxErrors);      // the error CQE reached the driver
        Assert.Equal(0, _vf.Stats.TxFramesCount);
        Assert.Equal(rxBefore, _vf.Stats.RxFramesCount); // the loopback brought nothing back
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void SgeStraddlingTheDriversBufferAndTheNext_IsAFault()
    {
        Assert.Equal(DmaError.None, _machine.Dma.TryAllocate(_owner, 4096, out DmaRegion mine));
        Send(mine.Iova + 4096 - 32, 64);
        Assert.Equal(1, _driver.Queues!.TxErrors);
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void LentBuffer_IsSent_UntilTheLoanIsRevoked()
    {
        Assert.Equal(DmaError.None, _secret.Lend(_victim, _owner));
        Send(_secret.Iova, 64);
        Assert.Equal(1, _vf.Stats.TxFramesCount);
        Assert.Equal(DmaError.None, _secret.Revoke(_victim, _owner));
        Send(_secret.Iova, 64);
        Assert.Equal(1, _vf.Stats.TxFramesCount);
        Assert.Equal(1, _driver.Queues!.TxErrors);
        Assert.Equal(1, _vf.Stats.DmaFaultsCount);
    }

    [Fact]
    public void DriverDisposed_LeavesTheDomainEmpty()
    {
        Assert.Single(_vf.Dma.Attached);
        _driver.Dispose();
        Assert.Empty(_vf.Dma.Attached);
    }
}
