using NicScript.Driver.Devices.Rdma;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>The RDMA data path allocates nothing per packet (posting, packetization, wire, responder, completions, polling).</summary>
public sealed class RdmaAllocationTests
{
    [Fact]
    public void Writes_and_sends_between_two_hosts_allocate_nothing_per_packet()
    {
        using var f = new F1();
        f.X.Wire.Capture(null); // the fixture's capture copies every frame; the engine must not
        RdmaMrInfo d = f.DstInfo;
        var wc = new RdmaCompletion[16];
        long completed = 0;
        void Round()
        {
            f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
            f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, d.Addr, d.Rkey, 4096);
            f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 64);
            int got = 0;
            while (got < 2) got += Math.Max(0, f.X.SA.Ctx.PollCq(f.QA, wc, 16));
            while (f.X.SB.Ctx.PollCq(f.QB, wc, 16) == 0) { }
            completed += got;
        }
        for (int i = 0; i < 200; i++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2400, completed);
        Assert.True(allocated < 8192, $"{allocated} bytes for 1000 rounds of 7 packets");
    }
}
