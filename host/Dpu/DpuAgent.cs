using System.Collections.Immutable;
using System.Threading.Channels;
using System.Text.RegularExpressions;
using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using Serilog;

namespace NicScript.Host.Dpu;

/// <summary>An rpc's outcome: the status for the reply's <c>status</c> field and a one-line detail for the trailers.</summary>
public readonly record struct DpuOutcome(DpuStatus Status, string Detail)
{
    public static readonly DpuOutcome Ok = new(DpuStatus.Ok, "");
    public bool IsOk => Status == DpuStatus.Ok;
}

/// <summary>Everything the agent knows, as one immutable value: reads take the current one and never see half a change.</summary>
public sealed record DpuState(
    ImmutableSortedDictionary<uint, PortCfg> Ports,
    ImmutableSortedDictionary<uint, NicScript.Dpu.V1.VdiskGetPvfCfg> Vdisks,
    ImmutableSortedDictionary<uint, MeterGetResponse> Meters,
    ImmutableSortedDictionary<int, ClassifierReadResponse> Rules,
    ImmutableSortedDictionary<uint, uint> Switches,
    ImmutableArray<uint> OpticalMtu,
    EthMacBondGetResponse Bond)
{
    public static DpuState Empty(DpuConfig c) => new(
        ImmutableSortedDictionary<uint, PortCfg>.Empty, ImmutableSortedDictionary<uint, NicScript.Dpu.V1.VdiskGetPvfCfg>.Empty,
        ImmutableSortedDictionary<uint, MeterGetResponse>.Empty, ImmutableSortedDictionary<int, ClassifierReadResponse>.Empty,
        ImmutableSortedDictionary<uint, uint>.Empty, Enumerable.Repeat(c.OpticalMtu, c.OpticalPorts).ToImmutableArray(),
        new EthMacBondGetResponse { Status = 0, Enable = false, OpticalPortCnt = (uint)c.OpticalPorts, ActivePortId = 0 });
}

/// <summary>
/// The DPU agent (reference/dpu.md §6–§7): one writer from validation to reply — validate against the current state,
/// commit the rows, apply to the emulated DPU, publish the new state, audit — and lock-free reads of the published state.
/// </summary>
public sealed partial class DpuAgent : IDisposable
{
    public const ulong SupportedFeatures = 1UL << 0 | 1UL << 1 | 1UL << 3 | 1UL << 5 | 1UL << 15 | 1UL << 16 | 1UL << 17 | 1UL << 18 | 1UL << 22
        | 1UL << 23 | 1UL << 28 | 1UL << 29 | 1UL << 32;
    public const ulong DefaultFeatures = 0x100438028;
    private const ulong FeatureMq = 1UL << 22, FeatureVersion1 = 1UL << 32;

    private const int MaxBatch = 64;

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly DpuStore _store;
    private readonly DpuDevice _device;
    private readonly ILogger _audit;
    private DpuState _state;

    public DpuAgent(DpuDevice device, DpuStore store, ILogger audit, bool resetState = false)
    {
        _device = device;
        _store = store;
        _audit = audit.ForContext("Component", "dpu-agent"); // its lines name it, not a V-Node (a script's dpu call still runs here)
        if (resetState) store.Reset();
        _state = Recover();
        _writer = Task.Run(WriteLoop);
    }

    public DpuConfig Config => _device.Config;

    /// <summary>The emulated DPU the agent programs.</summary>
    public DpuDevice Device => _device;

    /// <summary>The state reads see (an immutable snapshot).</summary>
    public DpuState State => Volatile.Read(ref _state);

    public DpuStore Store => _store;

    // ---- start and recovery: one path ----

    /// <summary>Rebuilds the state from the rows and programs the device; a row that does not fit the machine is a user error naming it.</summary>
    private DpuState Recover()
    {
        DpuConfig c = Config;
        DpuState s = DpuState.Empty(c);
        foreach (var (k, v) in _store.ReadAll("ports"))
        {
            if (k >= c.ElasticNicSlots) throw new UserErrorException($"vport {k} is stored but the machine has {c.ElasticNicSlots} elastic NIC slots");
            PortCfg p = PortCfg.Parser.ParseFrom(v);
            s = s with { Ports = s.Ports.SetItem((uint)k, p) };
        }
        foreach (var (k, v) in _store.ReadAll("vdisks"))
        {
            if (k >= c.VdiskSlots) throw new UserErrorException($"vdisk {k} is stored but the machine has {c.VdiskSlots} vdisk slots");
            s = s with { Vdisks = s.Vdisks.SetItem((uint)k, NicScript.Dpu.V1.VdiskGetPvfCfg.Parser.ParseFrom(v)) };
        }
        foreach (var (k, v) in _store.ReadAll("meters"))
        {
            if (s.Meters.Count >= c.MeterTable) throw new UserErrorException($"meter {k} is stored but the machine's meter table holds {c.MeterTable}");
            s = s with { Meters = s.Meters.SetItem((uint)k, MeterGetResponse.Parser.ParseFrom(v)) };
        }
        foreach (var (k, v) in _store.ReadAll("rules"))
        {
            if (s.Rules.Count >= c.ClassifierTable) throw new UserErrorException($"rule {k} is stored but the machine's classifier table holds {c.ClassifierTable}");
            s = s with { Rules = s.Rules.SetItem((int)k, ClassifierReadResponse.Parser.ParseFrom(v)) };
        }
        foreach (var (k, v) in _store.ReadAll("proc_switches"))
        {
            uint dest = BitConverter.ToUInt32(v);
            if (k >= c.SocPorts || dest >= c.SocPorts) throw new UserErrorException($"proc switch {k}→{dest} is stored but the machine has {c.SocPorts} SoC ports");
            s = s with { Switches = s.Switches.SetItem((uint)k, dest) };
        }
        foreach (var (k, v) in _store.ReadAll("optical_ports"))
        {
            if (k >= c.OpticalPorts) throw new UserErrorException($"optical port {k} is stored but the machine has {c.OpticalPorts} optical ports");
            s = s with { OpticalMtu = s.OpticalMtu.SetItem((int)k, BitConverter.ToUInt32(v)) };
        }
        foreach (var (_, v) in _store.ReadAll("bond")) s = s with { Bond = EthMacBondGetResponse.Parser.ParseFrom(v) };
        foreach (var (vport, p) in s.Ports)
            if (!_device.HasElasticNic(vport)) _device.AddElasticNic(vport, p.Mac.ToByteArray(), p.Mtu, p.MaxQpair, p.FeatureList);
        // disks come back over their files (data a FLUSH completed is there); a file with no row is a destroy the kill cut short
        string vdiskDir = Path.GetDirectoryName(VdiskBackingFile(0))!;
        if (Directory.Exists(vdiskDir))
            foreach (string file in Directory.GetFiles(vdiskDir, "*.img"))
                if (!uint.TryParse(Path.GetFileNameWithoutExtension(file), out uint id) || !s.Vdisks.ContainsKey(id)) File.Delete(file);
        foreach (NicScript.Dpu.V1.VdiskGetPvfCfg d in s.Vdisks.Values)
        {
            try
            {
                if (_device.Vdisk(d.Pvfid) is null) AddVdisk(d, create: false);
            }
            catch (IOException e)
            {
                throw new UserErrorException($"vdisk {d.Pvfid}: {VdiskBackingFile(d.Pvfid)}: {e.Message}");
            }
        }
        // meters restart with full buckets and zero counters; ref counts follow the rules
        var meters = s.Meters.ToDictionary(kv => kv.Key, kv => Reset(kv.Value));
        foreach (ClassifierReadResponse r in s.Rules.Values)
            if (r.Action.HasMeterId && meters.TryGetValue(r.Action.MeterId, out MeterGetResponse? m)) m.RefCnt++;
        DpuState recovered = s with { Meters = meters.ToImmutableSortedDictionary() };
        ProgramSwitch(recovered);
        return recovered;

        static MeterGetResponse Reset(MeterGetResponse m) => new(m) { PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
    }

    // ---- the writer ----

    /// <summary>Changes handed to the writer and not yet taken into a batch.</summary>
    public int Pending => Volatile.Read(ref _pending);

    private int _pending;

    private sealed class Work(string rpc, string key, Func<DpuState, (DpuOutcome Outcome, DpuState? Next, List<(string, long, byte[]?)>? Rows, Action? Apply)> plan)
    {
        public readonly string Rpc = rpc, Key = key;
        public readonly Func<DpuState, (DpuOutcome Outcome, DpuState? Next, List<(string, long, byte[]?)>? Rows, Action? Apply)> Plan = plan;
        public readonly TaskCompletionSource<DpuOutcome> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One change, handed to the single writer: validate, commit, apply, publish, audit; the task ends with its
    /// outcome once the change is durable and in force (or refused).</summary>
    private Task<DpuOutcome> Change(string rpc, string key, Func<DpuState, (DpuOutcome Outcome, DpuState? Next, List<(string, long, byte[]?)>? Rows, Action? Apply)> plan)
    {
        var work = new Work(rpc, key, plan);
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(work)) return work.Done.Task;
        Interlocked.Decrement(ref _pending);
        return Task.FromResult(new DpuOutcome(DpuStatus.Unavailable, "the agent is stopping"));
    }

    /// <summary>
    /// The single writer, with group commit: the changes waiting when it looks (up to <see cref="MaxBatch"/>) are
    /// validated one after the other, each against the state the ones before it leave, their rows go to disk in one
    /// transaction (one fsync), then each is applied, published and answered in order. Nothing is acknowledged before
    /// its commit, so acknowledged is still durable; a failed commit changes nothing for any of them. If the device
    /// refuses a change, its rows and those of every later change in the batch (validated on top of it) are put back,
    /// it answers INTERNAL, and the later ones are validated again in the next batch.
    /// </summary>
    private async Task WriteLoop()
    {
        var batch = new List<Work>(MaxBatch);
        var again = new Queue<Work>();
        while (again.Count > 0 || await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (again.Count > 0 && batch.Count < MaxBatch) batch.Add(again.Dequeue());
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out Work? w))
            {
                Interlocked.Decrement(ref _pending);
                batch.Add(w);
            }
            try
            {
                RunBatch(batch, again);
            }
            catch (Exception e) // a bug in a change's plan: answer, do not stop the writer
            {
                foreach (Work w in batch) Finish(w, new DpuOutcome(DpuStatus.Internal, "the agent failed: " + e.Message));
            }
        }
    }

    private void RunBatch(List<Work> batch, Queue<Work> again)
    {
        var planned = new List<(Work Work, DpuOutcome Outcome, DpuState Before, DpuState? Next, List<(string, long, byte[]?)>? Rows, Action? Apply)>(batch.Count);
        DpuState state = Volatile.Read(ref _state);
        foreach (Work w in batch)
        {
            var (outcome, next, rows, apply) = w.Plan(state);
            bool changes = outcome.IsOk && next is not null && rows is { Count: > 0 };
            planned.Add((w, outcome, state, changes ? next : null, changes ? rows : null, changes ? apply : null));
            if (changes) state = next!;
        }
        var all = planned.Where(p => p.Rows is not null).SelectMany(p => p.Rows!).ToList();
        if (all.Count > 0 && !_store.Commit(all))
        {
            // nothing changed: the changes fail; an answer that was worked out on top of one of them is worked out again
            bool afterChange = false;
            foreach (var p in planned)
            {
                if (p.Rows is not null) Finish(p.Work, new DpuOutcome(DpuStatus.Unavailable, "the change could not be made durable; nothing changed"));
                else if (afterChange) again.Enqueue(p.Work);
                else Finish(p.Work, p.Outcome);
                afterChange |= p.Rows is not null;
            }
            return;
        }
        // apply in order; the switch is programmed and the state published once, before any answer of the batch
        var answers = new List<(Work Work, DpuOutcome Outcome)>(planned.Count);
        DpuState applied = planned.Count > 0 ? planned[0].Before : Volatile.Read(ref _state);
        for (int i = 0; i < planned.Count; i++)
        {
            var p = planned[i];
            if (p.Rows is null)
            {
                answers.Add((p.Work, p.Outcome));
                continue;
            }
            try
            {
                p.Apply?.Invoke();
                applied = p.Next!;
                answers.Add((p.Work, p.Outcome));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
            {
                // the device refused a committed change: put its rows back, and those of the changes validated on top of it
                var undo = new List<(string, long, byte[]?)>();
                for (int j = planned.Count - 1; j >= i; j--)
                    if (planned[j].Rows is { } rows) undo.AddRange(rows.Select(r => (r.Item1, r.Item2, RowOf(planned[j].Before, r.Item1, r.Item2))));
                _store.Commit(undo);
                answers.Add((p.Work, new DpuOutcome(DpuStatus.Internal, "the device refused the change: " + e.Message)));
                for (int j = i + 1; j < planned.Count; j++) again.Enqueue(planned[j].Work);
                break;
            }
        }
        if (!ReferenceEquals(applied, Volatile.Read(ref _state)))
        {
            ProgramSwitch(applied);
            Volatile.Write(ref _state, applied);
        }
        foreach (var (work, outcome) in answers) Finish(work, outcome);
    }

    private void Finish(Work w, DpuOutcome outcome)
    {
        _audit.Information("dpu {Rpc} {Key} → {Status} {Detail}", w.Rpc, w.Key, StatusName(outcome.Status), outcome.Detail);
        w.Done.TrySetResult(outcome);
    }

    public static string StatusName(DpuStatus s) => s switch
    {
        DpuStatus.Ok => "OK",
        DpuStatus.NotFound => "NOT_FOUND",
        DpuStatus.AlreadyExists => "ALREADY_EXISTS",
        DpuStatus.NoResource => "NO_RESOURCE",
        DpuStatus.InvalidArgument => "INVALID_ARGUMENT",
        DpuStatus.InUse => "IN_USE",
        DpuStatus.FailedPrecondition => "FAILED_PRECONDITION",
        DpuStatus.Unsupported => "UNSUPPORTED",
        DpuStatus.Internal => "INTERNAL",
        DpuStatus.Unavailable => "UNAVAILABLE",
        _ => s.ToString(),
    };

    private static (DpuOutcome, DpuState?, List<(string, long, byte[]?)>?, Action?) Refuse(DpuStatus s, string detail) => (new DpuOutcome(s, detail), null, null, null);

    private static (DpuOutcome, DpuState?, List<(string, long, byte[]?)>?, Action?) Nothing() => (DpuOutcome.Ok, null, null, null);

    private static (DpuOutcome, DpuState?, List<(string, long, byte[]?)>?, Action?) Done(DpuState next, List<(string, long, byte[]?)> rows, Action? apply = null) =>
        (DpuOutcome.Ok, next, rows, apply);

    private static byte[] Bytes(IMessage m) => m.ToByteArray();

    /// <summary>The stored bytes of one row in <paramref name="s"/> (null: no such row), to undo a change.</summary>
    private static byte[]? RowOf(DpuState s, string table, long key) => table switch
    {
        "ports" => s.Ports.TryGetValue((uint)key, out PortCfg? p) ? Bytes(p) : null,
        "vdisks" => s.Vdisks.TryGetValue((uint)key, out NicScript.Dpu.V1.VdiskGetPvfCfg? d) ? Bytes(d) : null,
        "meters" => s.Meters.TryGetValue((uint)key, out MeterGetResponse? m) ? Bytes(m) : null,
        "rules" => s.Rules.TryGetValue((int)key, out ClassifierReadResponse? r) ? Bytes(r) : null,
        "proc_switches" => s.Switches.TryGetValue((uint)key, out uint d2) ? BitConverter.GetBytes(d2) : null,
        "optical_ports" => BitConverter.GetBytes(s.OpticalMtu[(int)key]),
        "bond" => Bytes(s.Bond),
        _ => null,
    };

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex VdiskName();

    private static bool IsPowerOfTwo(uint v) => v != 0 && (v & (v - 1)) == 0;

    public void Dispose()
    {
        foreach (uint id in State.Vdisks.Keys) _device.RemoveVdisk(id, deleteData: false); // the agent stops: the disks' files close, their data stays
        _queue.Writer.TryComplete();
        _writer.Wait(); // changes already handed over are finished first
        _store.Dispose();
    }
}
