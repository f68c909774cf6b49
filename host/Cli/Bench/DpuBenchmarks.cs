using System.Diagnostics;
using Grpc.Net.Client;
using Microsoft.Data.Sqlite;
using NicScript.Driver;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Dpu;
using Serilog;

namespace NicScript.Host.Cli.Bench;

/// <summary>The DPU agent's durable change rate over gRPC from 8 clients, beside the raw SQLite commit rate of the same disk.</summary>
public static class DpuBenchmarks
{
    public static BenchResult Rpc(TimeSpan duration)
    {
        string dir = Path.Combine(Path.GetTempPath(), "nicscript-dpu-bench-" + Guid.NewGuid().ToString("n"));
        try
        {
            using var machine = Machine.CreateDefault();
            var agent = new DpuAgent(new DpuDevice(machine, new DpuConfig()), new DpuStore(dir), new LoggerConfiguration().CreateLogger());
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
