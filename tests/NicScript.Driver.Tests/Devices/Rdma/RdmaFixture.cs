using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Net;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>A script's side of a test: its context, its DMA buffers and MRs.</summary>
public sealed class Side(RdmaContext ctx, DmaMemory memory, DmaOwner owner)
{
    public RdmaContext Ctx { get; } = ctx;
    public DmaOwner Owner { get; } = owner;

    public DmaRegion Buffer(int bytes, byte? fill = null, bool pattern = false)
    {
        Assert.Equal(DmaError.None, memory.TryAllocate(Owner, bytes, out DmaRegion r));
        Span<byte> s = Bytes(r);
        for (int i = 0; i < bytes; i++) s[i] = pattern ? (byte)i : fill ?? 0;
        return r;
    }

    public static Span<byte> Bytes(DmaRegion r) => r.DeviceSpanForRdmaTests();

    public int Reg(DmaRegion r, int access) => Ctx.RegMr(r.Iova, (ulong)r.Length, access);

    public RdmaMrInfo Info(int mr) => Ctx.QueryMr(mr)!;

    public RdmaCompletion[] Poll(int qp, int max = 16)
    {
        var wc = new RdmaCompletion[max];
        int n = Ctx.PollCq(qp, wc, max);
        Assert.True(n >= 0, Ctx.LastError?.ToString());
        return wc[..n];
    }

    /// <summary>Polls until one completion arrives (at most <paramref name="rounds"/> polls, each may jump the virtual clock).</summary>
    public RdmaCompletion One(int qp, int rounds = 200)
    {
        var wc = new RdmaCompletion[1];
        for (int i = 0; i < rounds; i++)
        {
            int n = Ctx.PollCq(qp, wc, 1);
            Assert.True(n >= 0, Ctx.LastError?.ToString());
            if (n == 1) return wc[0];
        }
        throw new Xunit.Sdk.XunitException($"no completion on QP {qp} after {rounds} polls");
    }

    public string Reason => Ctx.LastError?.Reason ?? "";
}

/// <summary>F0 (one host, a loopback QP) and F1 (hosts A and B on a wire, connected QPs) of reference/rdma.md §5.</summary>
public sealed class RdmaFixture : IDisposable
{
    public static readonly IPAddress IpA = IPAddress.Parse("192.0.2.1"), IpB = IPAddress.Parse("192.0.2.2");
    public const string GidA = "::ffff:192.0.2.1", GidB = "::ffff:192.0.2.2";

    public Machine Machine { get; }
    public Link Wire { get; }
    public List<byte[]> Captured { get; } = new();
    public RdmaDevice A { get; }
    public RdmaDevice B { get; }
    public Side SA { get; }
    public Side SB { get; }

    public RdmaFixture(string wire = "switch")
    {
        Machine = new Machine("rdma-test");
        Wire = Machine.AddLink(wire == "pair" ? Links.Pair("ab") : Links.Switch("ab", 4));
        Wire.Capture(new CaptureList(Captured));
        VirtioNetDevice fa = Machine.AddVirtioNet(new PciAddress(0, 0, 0x1f, 0), 11, [0x52, 0x54, 0, 0, 0, 0xA], Wire);
        VirtioNetDevice fb = Machine.AddVirtioNet(new PciAddress(0, 0, 0x1e, 0), 10, [0x52, 0x54, 0, 0, 0, 0xB], Wire);
        A = Machine.Rdma.Attach(fa, IpA);
        B = Machine.Rdma.Attach(fb, IpB);
        SA = NewSide(A, "SA");
        SB = NewSide(B, "SB");
    }

    public Side NewSide(RdmaDevice device, string name)
    {
        DmaOwner owner = Machine.Dma.CreateOwner(name, 1L << 26);
        return new Side(new RdmaContext(device, owner, name), Machine.Dma, owner);
    }

    /// <summary>RoCE frames seen on the wire (what a pcap would hold).</summary>
    public List<byte[]> Roce => Captured.Where(f => RoceV2.Parse(f, out _) is not null).ToList();

    public static byte Opcode(byte[] f) => f[RoceV2.BthAt];
    public static uint Psn(byte[] f) => BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(RoceV2.BthAt + 8)) & 0xFFFFFF;
    public static byte Syndrome(byte[] f) => f[RoceV2.BthAt + RoceV2.Bth];

    public void Run() => Machine.Rdma.Progress();

    public void Dispose() => Machine.Dispose();

    private sealed class CaptureList(List<byte[]> into) : ICaptureSink
    {
        public void Write(ReadOnlySpan<byte> frame)
        {
            lock (into) into.Add(frame.ToArray());
        }
    }
}

/// <summary>F1's buffers and connected QPs.</summary>
public sealed class F1 : IDisposable
{
    public F1(string wire = "switch", RdmaConnectOptions? options = null, bool connectB = true)
    {
        X = new RdmaFixture(wire);
        QA = X.SA.Ctx.CreateQp(8, 8);
        QB = X.SB.Ctx.CreateQp(8, 8);
        Assert.Equal(0, X.SA.Ctx.Connect(QA, RdmaFixture.GidB, QB, options));
        if (connectB) Assert.Equal(0, X.SB.Ctx.Connect(QB, RdmaFixture.GidA, QA, options));
        Src = X.SA.Buffer(4096, pattern: true);
        SrcMr = X.SA.Reg(Src, 0);
        Dst = X.SB.Buffer(4096, 0xEE);
        DstMr = X.SB.Reg(Dst, RdmaAccess.LOCAL_WRITE | RdmaAccess.REMOTE_WRITE);
        Rcv = X.SB.Buffer(4096, 0xEE);
        RcvMr = X.SB.Reg(Rcv, RdmaAccess.LOCAL_WRITE);
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

internal static class RdmaRegionExtensions
{
    public static Span<byte> DeviceSpanForRdmaTests(this DmaRegion r) => r.DeviceSpan;
}
