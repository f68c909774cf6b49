using System.Collections.Immutable;
using Microsoft.Data.Sqlite;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>
/// The agent's durable state (reference/dpu.md §7): one SQLite database, WAL, <c>synchronous=FULL</c>; one table per object
/// kind holding each object's protobuf bytes by key. A change is one transaction, committed before it is acknowledged.
/// Recovery reads the rows back into a <see cref="DpuState"/>; a change that has to be undone takes its rows from one.
/// </summary>
public sealed class DpuStore : IDisposable
{
    public const int SchemaVersion = 1;
    public static readonly string[] Tables = ["ports", "vdisks", "meters", "rules", "proc_switches", "optical_ports", "bond"];

    private readonly SqliteConnection _db;

    /// <exception cref="UserErrorException">The directory cannot be made or the file there is not a usable database: one line naming it.</exception>
    public DpuStore(string directory)
    {
        Path = System.IO.Path.Combine(directory, "dpu.sqlite");
        try
        {
            Directory.CreateDirectory(directory);
            _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
            Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
        {
            _db?.Dispose();
            throw new UserErrorException($"{Path}: cannot use the DPU state: {e.Message.Split('\n')[0].Trim()}");
        }
    }

    private void Open()
    {
        _db.Open();
        Exec("PRAGMA journal_mode=WAL");
        Exec("PRAGMA synchronous=FULL");
        Exec("PRAGMA foreign_keys=ON");
        Exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
        foreach (string t in Tables) Exec($"CREATE TABLE IF NOT EXISTS {t} (k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
        using SqliteCommand get = _db.CreateCommand();
        get.CommandText = "SELECT v FROM meta WHERE k = 'schema'";
        if (get.ExecuteScalar() is string v && int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) > SchemaVersion)
            throw new UserErrorException($"{Path}: schema version {v} is newer than this agent's {SchemaVersion}");
        Exec($"INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', '{SchemaVersion}')");
    }

    public string Path { get; }

    /// <summary>Test seam (DPU-65): every commit fails as a full or read-only disk would make it.</summary>
    public bool FailCommits { get; set; }

    /// <summary>Test seam: runs at the start of every commit (a test holds the writer there to let changes queue up).</summary>
    public Action? BeforeCommit { get; set; }

    /// <summary>Transactions committed so far: with group commit, fewer than the changes acknowledged under load.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    private long _commits;

    private void Exec(string sql)
    {
        using SqliteCommand c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public IEnumerable<(long Key, byte[] Value)> ReadAll(string table)
    {
        using SqliteCommand c = _db.CreateCommand();
        c.CommandText = $"SELECT k, v FROM {table} ORDER BY k";
        using SqliteDataReader r = c.ExecuteReader();
        var rows = new List<(long, byte[])>();
        while (r.Read()) rows.Add((r.GetInt64(0), (byte[])r.GetValue(1)));
        return rows;
    }

    /// <summary>One change: rows written (value) or deleted (null), committed as one transaction; false when it could not be made durable.</summary>
    public bool Commit(IReadOnlyList<(string Table, long Key, byte[]? Value)> rows)
    {
        BeforeCommit?.Invoke();
        if (FailCommits) return false;
        try
        {
            using SqliteTransaction tx = _db.BeginTransaction();
            foreach (var (table, key, value) in rows)
            {
                using SqliteCommand c = _db.CreateCommand();
                c.Transaction = tx;
                if (value is null)
                {
                    c.CommandText = $"DELETE FROM {table} WHERE k = $k";
                    c.Parameters.AddWithValue("$k", key);
                }
                else
                {
                    c.CommandText = $"INSERT OR REPLACE INTO {table} (k, v) VALUES ($k, $v)";
                    c.Parameters.AddWithValue("$k", key);
                    c.Parameters.AddWithValue("$v", value);
                }
                c.ExecuteNonQuery();
            }
            tx.Commit();
            Interlocked.Increment(ref _commits);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    // ---- rows to state and back ----

    /// <summary>The state the rows hold, checked against the machine's <paramref name="c"/>: a row that does not fit is
    /// a user error naming it. Meters come back with full buckets and zero counters; their ref counts follow the rules.</summary>
    public DpuState Recover(DpuConfig c)
    {
        DpuState s = DpuState.Empty(c);
        foreach (var (k, v) in ReadAll("ports"))
        {
            if (k >= c.ElasticNicSlots) throw new UserErrorException($"vport {k} is stored but the machine has {c.ElasticNicSlots} elastic NIC slots");
            PortCfg p = PortCfg.Parser.ParseFrom(v);
            s = s with { Ports = s.Ports.SetItem((uint)k, p) };
        }
        foreach (var (k, v) in ReadAll("vdisks"))
        {
            if (k >= c.VdiskSlots) throw new UserErrorException($"vdisk {k} is stored but the machine has {c.VdiskSlots} vdisk slots");
            s = s with { Vdisks = s.Vdisks.SetItem((uint)k, NicScript.Dpu.V1.VdiskGetPvfCfg.Parser.ParseFrom(v)) };
        }
        foreach (var (k, v) in ReadAll("meters"))
        {
            if (s.Meters.Count >= c.MeterTable) throw new UserErrorException($"meter {k} is stored but the machine's meter table holds {c.MeterTable}");
            s = s with { Meters = s.Meters.SetItem((uint)k, MeterGetResponse.Parser.ParseFrom(v)) };
        }
        foreach (var (k, v) in ReadAll("rules"))
        {
            if (s.Rules.Count >= c.ClassifierTable) throw new UserErrorException($"rule {k} is stored but the machine's classifier table holds {c.ClassifierTable}");
            ClassifierReadResponse rule = ClassifierReadResponse.Parser.ParseFrom(v);
            int vid = rule.Action.Vid;
            if (vid >= DpuAgent.OpticalBase && vid - DpuAgent.OpticalBase >= c.OpticalPorts)
                throw new UserErrorException($"rule {k} is stored with optical port {vid - DpuAgent.OpticalBase} as its target but the machine has {c.OpticalPorts} optical ports");
            if (vid >= DpuAgent.SocBase && vid < DpuAgent.OpticalBase && vid - DpuAgent.SocBase >= c.SocPorts)
                throw new UserErrorException($"rule {k} is stored with SoC port {vid - DpuAgent.SocBase} as its target but the machine has {c.SocPorts} SoC ports");
            s = s with { Rules = s.Rules.SetItem((int)k, rule) };
        }
        foreach (var (k, v) in ReadAll("proc_switches"))
        {
            uint dest = BitConverter.ToUInt32(v);
            if (k >= c.SocPorts || dest >= c.SocPorts) throw new UserErrorException($"proc switch {k}→{dest} is stored but the machine has {c.SocPorts} SoC ports");
            s = s with { Switches = s.Switches.SetItem((uint)k, dest) };
        }
        foreach (var (k, v) in ReadAll("optical_ports"))
        {
            if (k >= c.OpticalPorts) throw new UserErrorException($"optical port {k} is stored but the machine has {c.OpticalPorts} optical ports");
            s = s with { OpticalMtu = s.OpticalMtu.SetItem((int)k, BitConverter.ToUInt32(v)) };
        }
        foreach (var (_, v) in ReadAll("bond")) s = s with { Bond = EthMacBondGetResponse.Parser.ParseFrom(v) };
        // meters restart with full buckets and zero counters; ref counts follow the rules
        var meters = s.Meters.ToDictionary(kv => kv.Key, kv => Reset(kv.Value));
        foreach (ClassifierReadResponse r in s.Rules.Values)
            if (r.Action.HasMeterId && meters.TryGetValue(r.Action.MeterId, out MeterGetResponse? m)) m.RefCnt++;
        return s with { Meters = meters.ToImmutableSortedDictionary() };

        static MeterGetResponse Reset(MeterGetResponse m) => new(m) { PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
    }

    /// <summary>The stored bytes of one row in <paramref name="s"/> (null: no such row), to undo a change.</summary>
    public static byte[]? RowOf(DpuState s, string table, long key) => table switch
    {
        "ports" => s.Ports.TryGetValue((uint)key, out PortCfg? p) ? DpuChange.Bytes(p) : null,
        "vdisks" => s.Vdisks.TryGetValue((uint)key, out NicScript.Dpu.V1.VdiskGetPvfCfg? d) ? DpuChange.Bytes(d) : null,
        "meters" => s.Meters.TryGetValue((uint)key, out MeterGetResponse? m) ? DpuChange.Bytes(m) : null,
        "rules" => s.Rules.TryGetValue((int)key, out ClassifierReadResponse? r) ? DpuChange.Bytes(r) : null,
        "proc_switches" => s.Switches.TryGetValue((uint)key, out uint d2) ? BitConverter.GetBytes(d2) : null,
        "optical_ports" => BitConverter.GetBytes(s.OpticalMtu[(int)key]),
        "bond" => DpuChange.Bytes(s.Bond),
        _ => null,
    };

    /// <summary>Empties every table (<c>--reset-state</c>).</summary>
    public void Reset()
    {
        foreach (string t in Tables) Exec($"DELETE FROM {t}");
    }

    public void Dispose() => _db.Dispose();
}
