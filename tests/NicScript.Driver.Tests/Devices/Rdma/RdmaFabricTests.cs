using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Time;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>The fabric's virtual clock held by a test: timers fire exactly when it reaches them, and only then.</summary>
public sealed class RdmaFabricTests
{
    private const long DefaultTimeoutNs = 4096L << 14; // rdma.md: 4.096 µs × 2^timeout, timeout 14 unless connected with another

    [Fact]
    public void Retransmit_FiresExactlyAtTheTimeout_WhenATestStepsTheClock()
    {
        using var f = new F1();
        ManualClock clock = f.X.Machine.Rdma.Clock;
        f.X.Wire.InjectFaults(new FaultInjector(new FaultSettings(Drop: 1.0, Seed: 7, DelayTime: TimeSpan.Zero)));
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 100);
        f.X.Machine.Rdma.Progress(mayJump: false); // the write goes out (and is lost) at virtual time 0
        Assert.Equal(0, clock.NowNs);
        Assert.Equal(0, f.X.A.Retransmissions);

        clock.AdvanceNs(DefaultTimeoutNs - 1);
        f.X.Machine.Rdma.Progress(mayJump: false);
        Assert.Equal(0, f.X.A.Retransmissions); // one nanosecond early

        clock.AdvanceNs(1);
        f.X.Machine.Rdma.Progress(mayJump: false);
        Assert.Equal(1, f.X.A.Retransmissions);
        Assert.Equal(DefaultTimeoutNs, f.X.Machine.Rdma.NowNs); // stepped, never jumped

        f.X.Wire.InjectFaults(null);
        RdmaCompletion c = f.X.SA.One(f.QA);
        Assert.Equal(0, c.Status);
        Assert.Equal(Side.Bytes(f.Src)[..100].ToArray(), Side.Bytes(f.Dst)[..100].ToArray());
    }

    [Fact]
    public void Progress_MayJump_MovesTheClockToTheNextDeadline()
    {
        using var f = new F1();
        f.X.Wire.InjectFaults(new FaultInjector(new FaultSettings(Drop: 1.0, Seed: 7, DelayTime: TimeSpan.Zero)));
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 100);
        f.X.Machine.Rdma.Progress(); // sends, finds nothing to do, jumps to the retransmit deadline and fires it
        Assert.Equal(DefaultTimeoutNs, f.X.Machine.Rdma.Clock.NowNs);
        Assert.Equal(1, f.X.A.Retransmissions);
    }

    [Fact]
    public void Constructor_UsesTheClockItIsGiven()
    {
        var clock = new ManualClock();
        clock.AdvanceNs(1234);
        using var memory = new NicScript.Driver.Memory.DmaMemory();
        var fabric = new RdmaFabric(memory, clock: clock);
        Assert.Same(clock, fabric.Clock);
        Assert.Equal(1234, fabric.NowNs);
    }
}
