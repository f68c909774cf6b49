using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>F1's buffers and connected QPs.</summary>
public sealed class F1 : IDisposable
{
    public F1(string wire = "switch", RdmaConnectOptions? options = null, bool connectB = true, string nic = "virtio")
    {
        X = new RdmaFixture(wire, nic);
        QA = X.SA.Ctx.CreateQp(8, 8);
        QB = X.SB.Ctx.CreateQp(8, 8);
        Assert.Equal(0, X.SA.Ctx.Connect(QA, RdmaFixture.GidB, QB, options));
        if (connectB) Assert.Equal(0, X.SB.Ctx.Connect(QB, RdmaFixture.GidA, QA, options));
        Src = X.SA.Buffer(4096, pattern: true);
        SrcMr = X.SA.Reg(Src, 0);
        Dst = X.SB.Buffer(4096, 0xEE);
        DstMr = X.SB.Reg(Dst, RdmaAccess.RDMA_ACCESS_LOCAL_WRITE | RdmaAccess.RDMA_ACCESS_REMOTE_WRITE);
        Rcv = X.SB.Buffer(4096, 0xEE);
        RcvMr = X.SB.Reg(Rcv, RdmaAccess.RDMA_ACCESS_LOCAL_WRITE);
    }

    public RdmaFixture X { get; }
    public int QA { get; }
    public int QB { get; }
    public DmaRegion Src { get; }
    public DmaRegion Dst { get; }
    public DmaRegion Rcv { get; }
    public int SrcMr { get; }
    public int DstMr { get; }
    public int RcvMr { get; }
    public RdmaMrInfo DstInfo => X.SB.Info(DstMr);

    public bool Unchanged(DmaRegion r) => Side.Bytes(r).IndexOfAnyExcept((byte)0xEE) < 0;

    public void Dispose() => X.Dispose();
}
