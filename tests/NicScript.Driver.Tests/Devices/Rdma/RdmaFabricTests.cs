using System.Net;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Rdma;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>The fabric binds an RDMA device to any NIC model with a wire port, not to one family.</summary>
public sealed class RdmaFabricTests
{
    [Fact]
    public void Attach_ManaVfs_RdmaWriteCrossesTheirWire()
    {
        using var f = new F1(nic: "mana");
        Assert.IsType<ManaDevice>(f.X.A.Function);
        long id = f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 256);
        Assert.True(id >= 0);
        Assert.Equal(RdmaWcStatus.SUCCESS, f.X.SA.One(f.QA).Status);
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
