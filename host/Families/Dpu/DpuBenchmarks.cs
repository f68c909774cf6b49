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
    /// by its virtio-net driver, in bursts of 32: with no rules (default forwarding by MAC), with 256 rules where the
    /// matching one is the last (all of one shape: one hash probe per frame, as for one rule), or with one rule and a meter that passes everything.</summary>
    public static BenchResult Switch(string variant, TimeSpan duration)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nicscript-dpu-switch-" + Guid.NewGuid().ToString("n"));
        try
        {
            using var machine = DefaultMachine.Create();
            using var agent = new DpuAgent(new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance), new DpuStore(dir), new LoggerConfiguration().CreateLogger());
            if (Task.Run(() => agent.NewPort(new NewPortRequest { Uuid = "bench" })).GetAwaiter().GetResult().Reply.Status != 0) throw new InvalidOperationException("bench: NewPort failed");
            static MaskRuleKey Dip(uint a) => new() { IpType = "ipv4", Dip = { a }, DipMask = { 0xFFFFFFFF } };
            void Rule(int key, MaskRuleKey k, uint? meter = null)
            {
                var action = new RuleAction { Vid = 0, Qid = 0 };
                if (meter is { } m) action.MeterId = m;
                if (Task.Run(() => agent.ClassifierWrite(new ClassifierWriteRequest { KeyIndex = key, MaskRuleKey = k, Action = action })).GetAwaiter().GetResult().Reply.Status != 0)
                    throw new InvalidOperationException("bench: ClassifierWrite failed");
            }
            string note;
            switch (variant)
            {
                case "256 rules":
                    for (int k = 0; k < 255; k++) Rule(k, Dip(0xC0A80000 + (uint)k)); // 192.168.0.k: never the bench's frames
                    Rule(255, Dip(0x0A000002));
                    note = "256 rules of one shape, the match is the last one: one hash probe per frame";
                    break;
                case "meter":
                    if (Task.Run(() => agent.MeterAdd(new MeterAddRequest { Id = 1, Rate = uint.MaxValue })).GetAwaiter().GetResult().Reply.Status != 0) throw new InvalidOperationException("bench: MeterAdd failed");
                    Rule(1, Dip(0x0A000002), meter: 1);
                    note = "one rule with a meter (4.29 Tbit/s: every frame is marked and passes)";
                    break;
                default:
                    note = "no rules: default forwarding to the vport's MAC";
                    break;
            }
            machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out var function);
            VirtioNetDriver host = VirtioNetDriver.BringUp(function, machine.Dma, machine.Dma.CreateOwner("bench-host", 64 << 20), 1024);
            using var wire = new FrameGenerator(agent.Device.Switch.OpticalWire(0));
            wire.Configure(new TrafficSpec { Size = 64, Dmac = "02:4e:53:00:00:00", Destination = "10.0.0.2" });
            var burst = new FrameBurst(host.Pool);
            // As the core rows: the path compiled optimised before the clock starts (a 2-second row otherwise measured tiering).
            CoreBenchmarks.WarmUp(() => { wire.Send(32); host.RxPoll(burst); });
            long droppedBefore = agent.Device.Switch.HostCounters(0)!.RxDropCount;
            var clock = Stopwatch.StartNew();
            long received = Forward(wire, host, burst, clock, duration);
            double seconds = clock.Elapsed.TotalSeconds;
            received += host.RxPoll(burst);
            long dropped = agent.Device.Switch.HostCounters(0)!.RxDropCount - droppedBefore;
            return CoreBenchmarks.Row("dpu-switch", variant, 64, received, seconds, $"{note}; optical 0 -> vport 0, {dropped} dropped (ring full)");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
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
