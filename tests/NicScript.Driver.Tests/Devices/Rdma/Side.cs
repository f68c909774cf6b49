using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;

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
