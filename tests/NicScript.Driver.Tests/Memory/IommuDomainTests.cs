using NicScript.Driver.Memory;
using NicScript.Driver.Time;

namespace NicScript.Driver.Tests.Memory;

/// <summary>One function's IOMMU domain over real DMA memory: what its attached owner holds now, and nothing else.</summary>
public sealed class IommuDomainTests : IDisposable
{
    private sealed class Sink : IDmaFaultSink
    {
        public readonly List<DmaFault> Got = new();
        public void DmaFault(DmaFault fault)
        {
            lock (Got) Got.Add(fault);
        }
    }

    private readonly DmaMemory _memory = new();
    private readonly Sink _attackerSink = new(), _deviceSink = new();
    private readonly DmaOwner _driver, _victim;
    private readonly IommuDomain _domain;
    private readonly DmaRegion _own, _secret;

    public IommuDomainTests()
    {
        _driver = _memory.CreateOwner("attacker", 1 << 20, _attackerSink);
        _victim = _memory.CreateOwner("victim", 1 << 20);
        _domain = new IommuDomain(_memory, "0000:00:1f.0", _deviceSink);
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 4096, out _own));
        Assert.Equal(DmaError.None, _memory.TryAllocate(_victim, 4096, out _secret));
        _secret.DeviceSpan.Fill(0x5E);
    }

    public void Dispose() => _memory.Dispose();

    private bool SecretIntact => _secret.DeviceSpan.ToArray().All(b => b == 0x5E);

    [Fact]
    public void NoDriverAttached_ReachesNothing_AndEveryAccessIsAFault()
    {
        Assert.Equal(DmaError.IommuFault, _domain.TryRead(_own.Iova, new byte[16]));
        Assert.Equal(DmaError.IommuFault, _domain.TryWrite(_secret.Iova, new byte[16]));
        Assert.Equal(2, _domain.Faults);
        Assert.Equal(2, _deviceSink.Got.Count);
        Assert.All(_deviceSink.Got, f => Assert.Null(f.Driver)); // no V-Node to blame: the device log has it
        Assert.True(SecretIntact);
    }

    [Fact]
    public void AttachedOwner_ReadsAndWritesItsOwnRegion()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _domain.TryWrite(_own.Iova + 8, [1, 2, 3]));
        var back = new byte[3];
        Assert.Equal(DmaError.None, _domain.TryRead(_own.Iova + 8, back));
        Assert.Equal([1, 2, 3], back);
        Assert.Equal(0, _domain.Faults);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnotherOwnersRegion_IsAFault_ReportedWithFunctionIovaLengthAndDirection(bool write)
    {
        using DmaAttachment a = _domain.Attach(_driver);
        var buf = new byte[64];
        DmaError e = write ? _domain.TryWrite(_secret.Iova + 128, buf) : _domain.TryRead(_secret.Iova + 128, buf);
        Assert.Equal(DmaError.IommuFault, e);
        Assert.All(buf, b => Assert.Equal(0, b)); // nothing of the victim was read
        Assert.True(SecretIntact);
        DmaFault f = Assert.Single(_attackerSink.Got);
        Assert.Equal(("0000:00:1f.0", "attacker", _secret.Iova + 128, 64, write, DmaError.IommuFault, 1L), (f.Function, f.Driver, f.Iova, f.Length, f.Write, f.Reason, f.Total));
    }

    [Fact]
    public void LentRegion_IsReadable_ButADeviceWriteIntoItFaults()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _secret.Lend(_victim, _driver));
        var buf = new byte[4];
        Assert.Equal(DmaError.None, _domain.TryRead(_secret.Iova, buf));
        Assert.Equal(0x5E, buf[0]);
        Assert.Equal(DmaError.IommuFault, _domain.TryWrite(_secret.Iova, [0, 0, 0, 0]));
        Assert.True(SecretIntact);
        Assert.True(Assert.Single(_attackerSink.Got).Write);
    }

    [Fact]
    public void RevokedLoan_LeavesTheDomainAtOnce()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _secret.Lend(_victim, _driver));
        Assert.Equal(DmaError.None, _domain.TryLocate(_secret.Iova, 16, write: false, out DmaRegion r, out int off));
        Assert.Equal(DmaError.None, _secret.Revoke(_victim, _driver));
        Assert.Equal(DmaError.IommuFault, _domain.TryRead(_secret.Iova, new byte[16]));
        Assert.Equal(DmaError.IommuFault, _domain.TryGetSpan(r, off, 16, write: false, out _)); // resolved before: asked again
    }

    [Fact]
    public void TransferredAway_Faults_AndTransferredIn_IsReachable()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _own.Transfer(_driver, _victim));
        Assert.Equal(DmaError.IommuFault, _domain.TryWrite(_own.Iova, [9]));
        Assert.Equal(DmaError.None, _secret.Transfer(_victim, _driver)); // received: the device may use it now
        Assert.Equal(DmaError.None, _domain.TryWrite(_secret.Iova, [9]));
    }

    [Fact]
    public void FreedRegion_Faults_AndAnIovaNoRegionHolds_Faults()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _domain.TryLocate(_own.Iova, 16, write: true, out DmaRegion r, out _));
        ulong iova = _own.Iova;
        Assert.Equal(DmaError.None, _memory.Free(_driver, _own));
        Assert.Equal(DmaError.Freed, _domain.TryGetSpan(r, 0, 16, write: true, out _));
        Assert.Equal(DmaError.OutOfBounds, _domain.TryWrite(iova, [1]));
        Assert.Equal(2, _domain.Faults);
    }

    [Fact]
    public void RangeStraddlingAnOwnedAndAForeignRegion_FaultsAndTouchesNothing()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _memory.TryAllocate(_driver, 4096, out DmaRegion first));
        Assert.Equal(DmaError.None, _memory.TryAllocate(_victim, 4096, out DmaRegion next));
        Assert.True(next.Iova > first.Iova);
        int length = checked((int)(next.Iova - first.Iova) + 16); // runs from ours into the victim's
        Assert.Equal(DmaError.CrossesRegion, _domain.TryWrite(first.Iova, new byte[length]));
        Assert.Equal(DmaError.CrossesRegion, _domain.TryWrite(first.Iova + 4000, new byte[200])); // past our end
        Assert.Equal(2, _domain.Faults);
    }

    [Fact]
    public void Detach_EndsAccess_OnlyWhenEveryAttachmentIsGone_AndDisposingTwiceIsHarmless()
    {
        DmaAttachment first = _domain.Attach(_driver), second = _domain.Attach(_driver);
        Assert.Single(_domain.Attached);
        first.Dispose();
        first.Dispose();
        Assert.Equal(DmaError.None, _domain.TryWrite(_own.Iova, [1]));
        second.Dispose();
        Assert.Empty(_domain.Attached);
        Assert.Equal(DmaError.IommuFault, _domain.TryWrite(_own.Iova, [1]));
    }

    [Fact]
    public void Evict_DetachesEveryAttachment_AndLaterDisposalDoesNothing()
    {
        DmaAttachment a = _domain.Attach(_driver);
        _domain.Attach(_driver);
        using DmaAttachment other = _domain.Attach(_victim);
        _domain.Evict(_driver);
        Assert.Equal(DmaError.IommuFault, _domain.TryRead(_own.Iova, new byte[1]));
        a.Dispose();
        Assert.Equal(DmaError.None, _domain.TryRead(_secret.Iova, new byte[1])); // the other owner stays attached
    }

    [Fact]
    public void OwnerOfAnotherMemory_CannotBeAttached()
    {
        using var other = new DmaMemory();
        Assert.Throws<ArgumentException>(() => _domain.Attach(other.CreateOwner("elsewhere", 4096)));
    }

    [Fact]
    public void AFaultFlood_IsCountedInFull_ButReportedRateLimited_WithTheSuppressedCount()
    {
        using DmaAttachment a = _domain.Attach(_driver);
        for (int i = 0; i < 10_000; i++) _domain.TryRead(_secret.Iova, new byte[1]);
        Assert.Equal(10_000, _domain.Faults);
        Assert.InRange(_attackerSink.Got.Count, 1, 10 * IommuDomain.ReportsPerSecond); // however slow the machine, far fewer than 10k
        // suppressed ones are summed into the next report; none is counted twice
        Assert.InRange(_attackerSink.Got.Count + _attackerSink.Got.Sum(f => f.Suppressed), 1, 10_000);
        Assert.True(_attackerSink.Got.Zip(_attackerSink.Got.Skip(1)).All(p => p.Second.Total > p.First.Total));
    }

    [Fact]
    public void AFaultFlood_OnAManualClock_ReportsExactlyTheLimit_ThenTheSuppressedCountInTheNextSecond()
    {
        var clock = new ManualClock();
        var domain = new IommuDomain(_memory, "0000:00:1e.0", clock: clock);
        using DmaAttachment a = domain.Attach(_driver);
        for (int i = 0; i < 1000; i++) domain.TryRead(_secret.Iova, new byte[1]);
        Assert.Equal(IommuDomain.ReportsPerSecond, _attackerSink.Got.Count);
        Assert.All(_attackerSink.Got, f => Assert.Equal(0, f.Suppressed));

        clock.AdvanceNs(1_000_000_000 - 1);
        domain.TryRead(_secret.Iova, new byte[1]);
        Assert.Equal(IommuDomain.ReportsPerSecond, _attackerSink.Got.Count); // still the first second

        clock.AdvanceNs(1);
        domain.TryRead(_secret.Iova, new byte[1]);
        DmaFault next = _attackerSink.Got[^1];
        Assert.Equal(IommuDomain.ReportsPerSecond + 1, _attackerSink.Got.Count);
        Assert.Equal(1001L - IommuDomain.ReportsPerSecond, next.Suppressed);
        Assert.Equal(1002, next.Total);
    }

    [Fact]
    public void Resolving_AllocatesNothing()
    {
        using DmaAttachment a = _domain.Attach(_victim); // a second owner, so the scan is not trivially one compare
        using DmaAttachment b = _domain.Attach(_driver);
        Assert.Equal(DmaError.None, _own.Lend(_driver, _victim));
        Resolve(1000); // first calls load types and compile: not what is measured
        long before = GC.GetAllocatedBytesForCurrentThread();
        Resolve(10_000);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private void Resolve(int times)
    {
        Span<byte> buf = stackalloc byte[64];
        for (int i = 0; i < times; i++)
        {
            _domain.TryRead(_own.Iova, buf);
            _domain.TryWrite(_secret.Iova + 64, buf);
            _domain.TryLocate(_own.Iova, 64, write: true, out DmaRegion r, out int off);
            _domain.TryGetSpan(r, off, 64, write: true, out _);
        }
    }
}
