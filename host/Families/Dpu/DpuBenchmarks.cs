using System.Runtime.CompilerServices;
using NicScript.Driver.Devices.Virtio;
using System.Diagnostics;
using Grpc.Net.Client;
using Microsoft.Data.Sqlite;
using NicScript.Driver;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Wire;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;
using NicScript.Host.Scripting;
using Serilog;

using NicScript.Host.Cli.Bench;

namespace NicScript.Host.Families.Dpu;

/// <summary>The DPU agent's durable change rate over gRPC from 8 clients, beside the raw SQLite commit rate of the same disk.</summary>
public static class DpuBenchmarks
{
    public static BenchResult Rpc(TimeSpan duration)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nicscript-dpu-bench-" + Guid.NewGuid().ToString("n"));
        try
        {
            using var machine = DefaultMachine.Create();
            var agent = new DpuAgent(new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance), new DpuStore(dir), new LoggerConfiguration().CreateLogger());
            DpuServer server = Task.Run(() => DpuServer.StartAsync(agent, "127.0.0.1:0")).GetAwaiter().GetResult();
            try
            {
                using GrpcChannel channel = GrpcChannel.ForAddress(server.Address);
                var meters = new MeterService.MeterServiceClient(channel);
                const int Clients = 8;
                for (uint c = 0; c < Clients; c++) meters.MeterAdd(new MeterAddRequest { Id = c, Rate = 1 });
                long acknowledged = 0;
                var clock = Stopwatch.StartNew();
                Task.WaitAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
                {
                    uint rate = 1;
                    while (clock.Elapsed < duration)
                    {
                        rate = rate == 1 ? 2u : 1u; // every call is a real, durable change
                        MeterOpsRsp r = await meters.MeterUpdateAsync(new MeterUpdateRequest { Id = (uint)c, Rate = rate });
                        if (r.Status != 0) throw new InvalidOperationException($"the bench broke the agent: status {r.Status}");
                        Interlocked.Increment(ref acknowledged);
                    }
                })).ToArray());
                double seconds = clock.Elapsed.TotalSeconds;
                return CoreBenchmarks.Row("dpu-rpc", "agent", 0, acknowledged, seconds, $"{acknowledged / seconds:N0} acknowledged MeterUpdates/s from 8 gRPC clients, each committed (WAL, synchronous FULL)");
            }
            finally
            {
                Task.Run(async () => await server.DisposeAsync()).GetAwaiter().GetResult();
                agent.Dispose();
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>64-byte frames from optical port 0's wire through the DPU switch into elastic NIC 0's receive ring, drained
    /// by its virtio-net driver, in bursts of 32: with no rules (default forwarding by MAC), with 1, 256 or 4096 rules of
    /// one shape where the matching one is the last (one hash probe per frame whatever the count), or with one rule and a
    /// meter that passes everything.</summary>
    public static BenchResult Switch(string variant, TimeSpan duration) => WithAgent((machine, agent) =>
    {
        PortOpsRep port = NewPort(agent, "bench");
        string note;
        switch (variant)
        {
            case "1 rule" or "256 rules" or "4096 rules":
                int count = int.Parse(variant.Split(' ')[0]);
                ProgramRules(agent, count);
                note = count == 1 ? "1 rule (dip/32) that matches: per frame one masked hash probe per rule shape (tuple-space search)"
                    : $"{count} rules of one shape (dip/32), the match the last one: still one masked hash probe per frame";
                break;
            case "meter":
                if (Task.Run(() => agent.MeterAdd(new MeterAddRequest { Id = 1, Rate = uint.MaxValue })).GetAwaiter().GetResult().Reply.Status != 0) throw new InvalidOperationException("bench: MeterAdd failed");
                Rule(agent, 1, Dip(0x0A000002), meter: 1);
                note = "one rule with a meter (4.29 Tbit/s: every frame is marked and passes; the meter's lock once per burst)";
                break;
            default:
                note = "no rules: default forwarding to the vport's MAC";
                break;
        }
        Cable cable = Plug(machine, agent, 0, port);
        CoreBenchmarks.WarmUp(() => { cable.Wire.Send(32); cable.Host.RxPoll(cable.Burst); });
        long droppedBefore = agent.Device.Switch.HostCounters(0)!.RxDropCount;
        (long received, double seconds, double cpu) = Run([cable], duration);
        long dropped = agent.Device.Switch.HostCounters(0)!.RxDropCount - droppedBefore;
        return CoreBenchmarks.Row("dpu-switch", variant, 64, received, seconds, $"{note}; optical 0 -> vport 0, {dropped} dropped (ring full)") with { CpuSeconds = cpu };
    });

    /// <summary>Two cables at once: optical 0 into vport 0 and optical 1 into vport 1 (default forwarding), each cable's
    /// generator and its vport's driver on a thread of their own; the note has one cable alone, measured first in the same
    /// row, and the ratio.</summary>
    public static BenchResult TwoCables(TimeSpan duration) => WithAgent((machine, agent) =>
    {
        Cable a = Plug(machine, agent, 0, NewPort(agent, "bench-a")), b = Plug(machine, agent, 1, NewPort(agent, "bench-b"));
        CoreBenchmarks.WarmUp(() => { a.Wire.Send(32); a.Host.RxPoll(a.Burst); b.Wire.Send(32); b.Host.RxPoll(b.Burst); });
        (long one, double oneSeconds, _) = Run([a], duration);
        (long two, double seconds, double cpu) = Run([a, b], duration);
        double oneMpps = one / oneSeconds / 1e6, twoMpps = two / seconds / 1e6;
        return CoreBenchmarks.Row("dpu-switch", "two cables", 64, two, seconds,
            $"optical 0 -> vport 0 and optical 1 -> vport 1 on two threads: {twoMpps:N2} Mpps in all, {twoMpps / oneMpps:N2}x one cable alone ({oneMpps:N2} Mpps, same row)") with { CpuSeconds = cpu };
    });

    private sealed record Cable(FrameGenerator Wire, VirtioNetDriver Host, FrameBurst Burst);

    private static BenchResult WithAgent(Func<Machine, DpuAgent, BenchResult> bench)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nicscript-dpu-switch-" + Guid.NewGuid().ToString("n"));
        try
        {
            using var machine = DefaultMachine.Create();
            using var agent = new DpuAgent(new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance), new DpuStore(dir), new LoggerConfiguration().CreateLogger());
            return bench(machine, agent);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static PortOpsRep NewPort(DpuAgent agent, string uuid)
    {
        PortOpsRep reply = Task.Run(() => agent.NewPort(new NewPortRequest { Uuid = uuid })).GetAwaiter().GetResult().Reply;
        return reply.Status == 0 ? reply : throw new InvalidOperationException("bench: NewPort failed");
    }

    private static MaskRuleKey Dip(uint a) => new() { IpType = "ipv4", Dip = { a }, DipMask = { 0xFFFFFFFF } };

    private static void Rule(DpuAgent agent, int key, MaskRuleKey k, uint? meter = null)
    {
        var action = new RuleAction { Vid = 0, Qid = 0 };
        if (meter is { } m) action.MeterId = m;
        if (Task.Run(() => agent.ClassifierWrite(new ClassifierWriteRequest { KeyIndex = key, MaskRuleKey = k, Action = action })).GetAwaiter().GetResult().Reply.Status != 0)
            throw new InvalidOperationException("bench: ClassifierWrite failed");
    }

    /// <summary>Rules 0..count−2 for 192.168.x.y (never the bench's frames), the last for 10.0.0.2 to vport 0 queue 0: into
    /// the switch directly, as the agent would program them (4096 durable rpcs take minutes on a loaded disk).</summary>
    private static void ProgramRules(DpuAgent agent, int count)
    {
        static DpuKey Key(uint dip) => new(0, 0, 0, 0, 4, [dip], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        var rules = new DpuRule[count];
        for (int k = 0; k < count - 1; k++) rules[k] = new DpuRule(k, Key(0xC0A80000 + (uint)k), 0, 0, null);
        rules[^1] = new DpuRule(count - 1, Key(0x0A000002), 0, 0, null);
        DpuConfig config = agent.Device.Config;
        agent.Device.Switch.Program(rules, [], Enumerable.Repeat(-1, config.SocPorts).ToArray(), Enumerable.Repeat(config.OpticalMtu, config.OpticalPorts).ToArray(), DpuBond.Off);
    }

    /// <summary>vport <paramref name="vport"/>'s host driver, and a generator on optical port <paramref name="vport"/> sending
    /// 64-byte frames to its MAC.</summary>
    private static Cable Plug(Machine machine, DpuAgent agent, int vport, PortOpsRep port)
    {
        if (port.Vport != vport) throw new InvalidOperationException($"bench: NewPort gave vport {port.Vport}, not {vport}");
        machine.Pci.TryGet(DpuDevice.ElasticNicAddress((uint)vport), out var function);
        VirtioNetDriver host = VirtioNetDriver.BringUp(function, machine.Dma, machine.Dma.CreateOwner($"bench-host{vport}", 64 << 20), 1024);
        var wire = new FrameGenerator(agent.Device.Switch.OpticalWire(vport));
        wire.Configure(new TrafficSpec { Size = 64, Dmac = MacAddress.Format(agent.Device.ElasticNic((uint)vport)!.Model.Mac), Destination = "10.0.0.2" });
        return new Cable(wire, host, new FrameBurst(host.Pool));
    }

    /// <summary>Each cable on a thread of its own for <paramref name="duration"/>: frames received by the drivers, wall
    /// seconds, and the threads' CPU seconds.</summary>
    private static (long Received, double Seconds, double CpuSeconds) Run(Cable[] cables, TimeSpan duration)
    {
        var received = new long[cables.Length];
        var cpuNs = new long[cables.Length];
        using var go = new ManualResetEventSlim();
        var clock = new Stopwatch();
        Thread[] threads = cables.Select((c, k) => new Thread(() =>
        {
            go.Wait();
            long cpu0 = ThreadCpuClock.ReadCurrentThreadNs();
            received[k] = Forward(c.Wire, c.Host, c.Burst, clock, duration);
            cpuNs[k] = ThreadCpuClock.ReadCurrentThreadNs() - cpu0;
        }) { IsBackground = true, Name = $"dpu-bench-cable{k}" }).ToArray();
        foreach (Thread t in threads) t.Start();
        clock.Start();
        go.Set();
        foreach (Thread t in threads) t.Join();
        double seconds = clock.Elapsed.TotalSeconds;
        long all = received.Sum();
        foreach (Cable c in cables) all += c.Host.RxPoll(c.Burst); // what was in flight when the clock stopped
        return (all, seconds, cpuNs.Sum() / 1e9);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // entered once: compiled optimised, not on-stack-replaced
    private static long Forward(FrameGenerator wire, VirtioNetDriver host, FrameBurst burst, Stopwatch clock, TimeSpan duration)
    {
        long received = 0;
        while (clock.Elapsed < duration)
        {
            for (int i = 0; i < 64; i++)
            {
                wire.Send(32);
                received += host.RxPoll(burst);
            }
        }
        return received;
    }

    /// <summary>One connection, one row replaced per transaction, WAL and synchronous FULL: what the disk allows.</summary>
    public static BenchResult RawSqlite(TimeSpan duration)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nicscript-sqlite-bench-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            long commits = 0;
            double seconds;
            using (var db = new SqliteConnection($"Data Source={Path.Combine(dir, "b.sqlite")};Pooling=False"))
            {
                db.Open();
                foreach (string pragma in new[] { "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)" })
                {
                    using SqliteCommand c = db.CreateCommand();
                    c.CommandText = pragma;
                    c.ExecuteNonQuery();
                }
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < duration)
                {
                    using SqliteTransaction tx = db.BeginTransaction();
                    using SqliteCommand c = db.CreateCommand();
                    c.Transaction = tx;
                    c.CommandText = "INSERT OR REPLACE INTO t (k, v) VALUES (1, $v)";
                    c.Parameters.AddWithValue("$v", BitConverter.GetBytes(commits));
                    c.ExecuteNonQuery();
                    tx.Commit();
                    commits++;
                }
                seconds = clock.Elapsed.TotalSeconds;
            }
            return CoreBenchmarks.Row("sqlite commit", "raw", 0, commits, seconds, $"{commits / seconds:N0} synchronous commits/s on the same disk (WAL, synchronous FULL)");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
