using NicScript.Driver.Devices.Virtio;
using System.Diagnostics;
using System.Net;
using NicScript.Driver;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Host.Cli.Bench;

/// <summary>RDMA between two emulated hosts on one core: WRITE throughput, SEND message rate, and memcpy for scale.</summary>
public static class RdmaBenchmarks
{
    /// <summary>Hosts A and B on a pair wire, QPs connected, <paramref name="kind"/> messages of <paramref name="bytes"/> kept 32 deep.</summary>
    public static BenchResult Run(string kind, int bytes, TimeSpan duration)
    {
        using var machine = new Machine("rdma-bench");
        Link wire = machine.AddLink(Links.Pair("ab"));
        var faAddress = new PciAddress(0, 0, 0x1f, 0);
        VirtioNetDevice fa = machine.Add(new VirtioNetDevice(faAddress, machine.Domain(faAddress), machine.Line(11), [0x52, 0x54, 0, 0, 0, 0xA], machine.Events), wire);
        var fbAddress = new PciAddress(0, 0, 0x1e, 0);
        VirtioNetDevice fb = machine.Add(new VirtioNetDevice(fbAddress, machine.Domain(fbAddress), machine.Line(10), [0x52, 0x54, 0, 0, 0, 0xB], machine.Events), wire);
        RdmaDevice da = machine.Rdma.Attach(fa, IPAddress.Parse("192.0.2.1")), db = machine.Rdma.Attach(fb, IPAddress.Parse("192.0.2.2"));
        DmaOwner oa = machine.Dma.CreateOwner("a", 64 << 20), ob = machine.Dma.CreateOwner("b", 64 << 20);
        var a = new RdmaContext(da, oa, name: "a");
        var b = new RdmaContext(db, ob, name: "b");
        machine.Dma.TryAllocate(oa, bytes, out DmaRegion src);
        machine.Dma.TryAllocate(ob, bytes, out DmaRegion dst);
        int srcMr = a.RegMr(src.Iova, (ulong)bytes, 0), dstMr = b.RegMr(dst.Iova, (ulong)bytes, RdmaAccess.RDMA_ACCESS_LOCAL_WRITE | RdmaAccess.RDMA_ACCESS_REMOTE_WRITE);
        const int Depth = 32;
        int qa = a.CreateQp(Depth, Depth), qb = b.CreateQp(Depth, Depth);
        a.Connect(qa, db.Gid, qb);
        b.Connect(qb, da.Gid, qa);
        RdmaMrInfo target = b.QueryMr(dstMr)!;
        bool send = kind == "send";
        var wc = new RdmaCompletion[Depth];
        int outstanding = 0;
        long messages = 0;
        void Fill()
        {
            for (; outstanding < Depth; outstanding++)
            {
                if (send)
                {
                    b.PostRecv(qb, dstMr, (ulong)bytes);
                    a.PostSend(qa, srcMr, (ulong)bytes);
                }
                else a.PostWrite(qa, srcMr, 0, target.Addr, target.Rkey, (ulong)bytes);
            }
        }
        void Round()
        {
            Fill();
            int n = a.PollCq(qa, wc, Depth);
            for (int i = 0; i < n; i++)
                if (wc[i].Status != 0) throw new InvalidOperationException($"the bench broke the RDMA engine: status {wc[i].Status}");
            outstanding -= n;
            messages += n;
            if (send) b.PollCq(qb, wc, Depth);
        }
        for (int warm = 0; warm < 2000; warm++) Round();
        messages = 0;
        var clock = Stopwatch.StartNew();
        long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (clock.ElapsedTicks < deadline)
            for (int i = 0; i < 16; i++) Round();
        double seconds = clock.Elapsed.TotalSeconds;
        return CoreBenchmarks.Row(send ? "rdma send" : "rdma write", "core", bytes, messages, seconds,
            "A→B over the pair wire, 32 WRs in flight, path MTU 1024, ICRC on every frame");
    }

    /// <summary>memcpy of the same size on this machine, for scale: the ceiling a software RDMA engine copies against.</summary>
    public static BenchResult Memcpy(int bytes, TimeSpan duration)
    {
        byte[] from = new byte[bytes], to = new byte[bytes];
        long copies = 0;
        for (int warm = 0; warm < 10_000; warm++) from.AsSpan().CopyTo(to);
        var clock = Stopwatch.StartNew();
        long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (clock.ElapsedTicks < deadline)
        {
            for (int i = 0; i < 256; i++) from.AsSpan().CopyTo(to);
            copies += 256;
        }
        return CoreBenchmarks.Row("memcpy", "core", bytes, copies, clock.Elapsed.TotalSeconds, "Span.CopyTo of the same size, for scale");
    }
}
