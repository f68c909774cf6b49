using System.Collections.Immutable;
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

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly DpuStore _store;
    private readonly DpuDevice _device;
    private readonly ILogger _audit;
    private DpuState _state;

    public DpuAgent(DpuDevice device, DpuStore store, ILogger audit, bool resetState = false)
    {
        _device = device;
        _store = store;
        _audit = audit;
        if (resetState) store.Reset();
        _state = Recover();
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

    /// <summary>One change: validate, commit, apply, publish, audit — all under the single writer.</summary>
    private async Task<DpuOutcome> Change(string rpc, string key, Func<DpuState, (DpuOutcome Outcome, DpuState? Next, List<(string, long, byte[]?)>? Rows, Action? Apply)> plan)
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            DpuState now = _state;
            var (outcome, next, rows, apply) = plan(now);
            if (outcome.IsOk && next is not null && rows is { Count: > 0 })
            {
                if (!_store.Commit(rows)) outcome = new DpuOutcome(DpuStatus.Unavailable, "the change could not be made durable; nothing changed");
                else
                {
                    try
                    {
                        apply?.Invoke();
                        ProgramSwitch(next);
                        Volatile.Write(ref _state, next);
                    }
                    catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
                    {
                        // the device refused a validated change: put the rows back as they were, answer INTERNAL
                        _store.Commit(rows.Select(r => (r.Item1, r.Item2, RowOf(now, r.Item1, r.Item2))).ToList());
                        outcome = new DpuOutcome(DpuStatus.Internal, "the device refused the change: " + e.Message);
                    }
                }
            }
            _audit.Information("dpu {Rpc} {Key} → {Status} {Detail}", rpc, key, StatusName(outcome.Status), outcome.Detail);
            return outcome;
        }
        finally
        {
            _writer.Release();
        }
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
        _writer.Dispose();
        _store.Dispose();
    }
}
