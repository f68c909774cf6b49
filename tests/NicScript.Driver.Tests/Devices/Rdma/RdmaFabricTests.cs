using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Time;
using NicScript.Driver.Wire;
using System.Net;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>The fabric binds an RDMA device to any NIC model with a wire port, not to one family; its virtual clock, held by
/// a test, fires timers exactly when it reaches them, and only then.</summary>
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

    [Fact]
    public void Attach_ManaVfs_RdmaWriteCrossesTheirWire()
    {
        using var f = new F1(nic: "mana");
        Assert.IsType<ManaDevice>(f.X.A.Function);
        long id = f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 256);
        Assert.True(id >= 0);
        Assert.Equal(RdmaWcStatus.RDMA_WC_SUCCESS, f.X.SA.One(f.QA).Status);
        Assert.Equal(Side.Bytes(f.Src)[..256].ToArray(), Side.Bytes(f.Dst)[..256].ToArray());
        Assert.NotEmpty(f.X.Roce); // the frames went out through VF A's port and were taken at VF B's
    }

    [Fact]
    public void Attach_SameFunctionTwice_Throws()
    {
        using Machine m = DefaultMachine.Create();
        ManaDevice vf = m.Devices.OfType<ManaDevice>().Single();
        m.Rdma.Attach(vf, IPAddress.Parse("192.0.2.9"));
        Assert.Throws<ArgumentException>(() => m.Rdma.Attach(vf, IPAddress.Parse("192.0.2.10")));
    }
}
