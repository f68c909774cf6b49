using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>A lossy wire: 5 % of frames dropped, every WR still completes and the retransmissions are counted.</summary>
public sealed class RdmaLossyWireTests
{
    [Fact]
    public void With_5_percent_drop_every_write_and_send_completes_and_retransmissions_are_counted()
    {
        using var f = new F1();
        f.X.Wire.InjectFaults(new FaultInjector(new FaultSettings(0.05, 0, 0, 0, 0, 42, TimeSpan.Zero)));
        RdmaMrInfo d = f.DstInfo;
        int ok = 0, received = 0;
        for (int round = 0; round < 100; round++)
        {
            Assert.True(f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096) >= 0, f.X.SB.Reason);
            Assert.True(f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, d.Addr, d.Rkey, 3000) >= 0, f.X.SA.Reason);
            Assert.True(f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 1500) >= 0, f.X.SA.Reason);
            for (int i = 0; i < 2; i++) ok += f.X.SA.One(f.QA, rounds: 2000).Status == 0 ? 1 : 0;
            RdmaCompletion r = f.X.SB.One(f.QB, rounds: 2000);
            received += r.Status == 0 && r.ByteLen == 1500 ? 1 : 0;
        }
        Assert.Equal(200, ok);
        Assert.Equal(100, received);
        Assert.True(f.X.A.Retransmissions > 0, "no retransmission with 5 % loss");
        Assert.Equal(Side.Bytes(f.Src)[..3000].ToArray(), Side.Bytes(f.Dst)[..3000].ToArray());
        Assert.Equal(3, f.X.SA.Ctx.QpState(f.QA));
    }
}
