using Microsoft.Data.Sqlite;

namespace NicScript.Host.Dpu;

/// <summary>
/// The agent's durable state (reference/dpu.md §7): one SQLite database, WAL, <c>synchronous=FULL</c>; one table per object
/// kind holding each object's protobuf bytes by key. A change is one transaction, committed before it is acknowledged.
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

    /// <summary>Empties every table (<c>--reset-state</c>).</summary>
    public void Reset()
    {
        foreach (string t in Tables) Exec($"DELETE FROM {t}");
    }

    public void Dispose() => _db.Dispose();
}
