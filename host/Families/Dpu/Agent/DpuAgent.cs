using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using Serilog;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>
/// The DPU agent (reference/dpu.md §6–§7), the coordinator the six services and the scripts' <c>dpu</c> handle call:
/// a changing rpc goes to a service's validator through the single <see cref="DpuWriter"/> (validate, commit, apply,
/// publish, audit); a read takes the published state and what the device reads back, without a lock.
/// </summary>
/// <remarks>Design: the layers below are the validators (one per service: what a request must satisfy), the writer
/// (group commit), the <see cref="DpuStore"/> (SQLite, recovery), the <see cref="DpuProgrammer"/> (state into driver
/// calls) and <see cref="DpuReadBack"/> (counters and run-time fields). This class only shapes requests and replies.</remarks>
public sealed class DpuAgent : IDisposable
{
    /// <summary>The vid space of rules and statistics: host vports below, SoC ports from <see cref="SocBase"/>, optical ports from <see cref="OpticalBase"/>.</summary>
    public const int SocBase = 0x10000, OpticalBase = 0x20000;

    private readonly DpuStore _store;
    private readonly DpuDevice _device;
    private readonly DpuProgrammer _programmer;
    private readonly DpuReadBack _readBack;
    private readonly DpuWriter _writer;
    private readonly ElasticNicValidator _nic;
    private readonly VdiskValidator _vdisk;
    private readonly MeterValidator _meter;
    private readonly TrafficControlValidator _traffic;
    private readonly PortStatsValidator _portStats;
    private readonly OpticalPortValidator _optical;

    /// <summary>Recovers the state from <paramref name="store"/> (a row that does not fit the machine is a user error naming
    /// it), programs the device with it and starts the writer.</summary>
    public DpuAgent(DpuDevice device, DpuStore store, ILogger audit, bool resetState = false)
    {
        _device = device;
        _store = store;
        ILogger agentAudit = audit.ForContext("Component", "dpu-agent"); // its lines name it, not a V-Node (a script's dpu call still runs here)
        if (resetState) store.Reset();
        _programmer = new DpuProgrammer(device, Path.Combine(Path.GetDirectoryName(store.Path)!, "vdisks"));
        _readBack = new DpuReadBack(device, _programmer);
        DpuState recovered = store.Recover(device.Config);
        _programmer.Restore(recovered);
        DpuConfig c = device.Config;
        (_nic, _vdisk, _meter, _traffic, _portStats, _optical) =
            (new ElasticNicValidator(c), new VdiskValidator(c), new MeterValidator(c), new TrafficControlValidator(c), new PortStatsValidator(c), new OpticalPortValidator(c));
        _writer = new DpuWriter(store, _programmer, agentAudit, recovered);
    }

    public DpuConfig Config => _device.Config;

    /// <summary>The emulated DPU the agent programs.</summary>
    public DpuDevice Device => _device;

    /// <summary>The state reads see (an immutable snapshot).</summary>
    public DpuState State => _writer.State;

    public DpuStore Store => _store;

    /// <summary>Changes handed to the writer and not yet taken into a batch.</summary>
    public int Pending => _writer.Pending;

    /// <summary>A status as the trailers, the audit log and script errors spell it (<c>NOT_FOUND</c>).</summary>
    public static string StatusName(DpuStatus s) => DpuOutcome.StatusName(s);

    /// <summary>The backing file of disk <paramref name="pvfId"/>: beside the database, so one directory is the whole state.</summary>
    public string VdiskBackingFile(uint pvfId) => _programmer.VdiskBackingFile(pvfId);

    // ---------------------------------------------------------------- elastic NICs (§6.1)

    public GetPortCapabilityResponse GetPortCapability() =>
        new() { Status = 0, TotalPvfCnt = (uint)Config.ElasticNicSlots, FreePvfCnt = (uint)(Config.ElasticNicSlots - State.Ports.Count) };

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> NewPort(NewPortRequest r)
    {
        uint vport = 0;
        DpuOutcome o = await _writer.Change("NewPort", $"uuid={r.Uuid}", s => _nic.NewPort(r, s, ref vport)).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = vport }, o);
    }

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> DelPort(DelPortRequest r)
    {
        DpuOutcome o = await _writer.Change("DelPort", $"vport={r.Vport}", s => ElasticNicValidator.DelPort(r, s)).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = r.Vport }, o);
    }

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> SetPortCfg(SetPortCfgRequest r)
    {
        DpuOutcome o = await _writer.Change("SetPortCfg", $"vport={r.Vport}", s => _nic.SetPortCfg(r, s)).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = r.Vport }, o);
    }

    public (GetPortCfgResponse Reply, DpuOutcome Outcome) GetPortCfg(GetPortCfgRequest r)
    {
        DpuState s = State;
        DpuOutcome o = ElasticNicValidator.GetPortCfg(r, s);
        if (!o.IsOk) return (EmptyPortCfg(o.Status, r.Vport), o);
        PortCfg p = s.Ports[r.Vport];
        return (new GetPortCfgResponse
        {
            Status = 0, Enable = true, MaxQpair = p.MaxQpair, Mtu = p.Mtu, Mac = p.Mac, Uuid = p.Uuid, Vport = p.Vport, QueueDepth = p.QueueDepth,
            ActiveQpair = _readBack.ActiveQpair(p.Vport), FeatureList = p.FeatureList,
        }, DpuOutcome.Ok);
    }

    private static GetPortCfgResponse EmptyPortCfg(DpuStatus status, uint vport) => new()
    {
        Status = (uint)status, Enable = false, MaxQpair = 0, Mtu = 0, Mac = ByteString.Empty, Uuid = "", Vport = vport, QueueDepth = 0, ActiveQpair = 0, FeatureList = 0,
    };

    public QueryPortResponse QueryPort()
    {
        var reply = new QueryPortResponse { Status = 0 };
        reply.Ports.AddRange(State.Ports.Values.Select(p => new PortCfg(p) { ActiveQpair = _readBack.ActiveQpair(p.Vport) }));
        return reply;
    }

    // ---------------------------------------------------------------- virtual disks (§6.2)

    public VdiskGetPvfCapabilityResponse VdiskGetPvfCapability() =>
        new() { Status = 0, TotalPvfCnt = (uint)Config.VdiskSlots, FreePvfCnt = (uint)(Config.VdiskSlots - State.Vdisks.Count) };

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskCreate(VdiskCreateRequest r)
    {
        uint id = r.PvfId;
        DpuOutcome o = await _writer.Change("VdiskCreate", $"name={r.Name}", s => _vdisk.VdiskCreate(r, s, ref id)).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = id }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskDestroy(VdiskDestroyRequest r)
    {
        DpuOutcome o = await _writer.Change("VdiskDestroy", $"pvf_id={r.PvfId}", s => VdiskValidator.VdiskDestroy(r, s)).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskUpdate(VdiskUpdateRequest r)
    {
        DpuOutcome o = await _writer.Change("VdiskUpdate", $"pvf_id={r.PvfId}", s => _vdisk.VdiskUpdate(r, s)).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskPause(VdiskPauseRequest r)
    {
        DpuOutcome o = await _writer.Change("VdiskPause", $"pvf_id={r.PvfId}", s => VdiskValidator.VdiskPause(r, s)).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public (VdiskGetPvfCfgResponse Reply, DpuOutcome Outcome) VdiskGetPvfCfg(VdiskGetPvfCfgRequest r)
    {
        var empty = new VdiskGetPvfCfgResponse { PvfId = r.PvfId, Enable = false, MaxQueue = 0, MsixNum = 0, QueueDepth = 0, SectorNum = 0, NrActiveQueue = 0, TransStatus = 0, Name = "", PortType = PvfType.PfType };
        DpuState s = State;
        DpuOutcome o = VdiskValidator.VdiskGetPvfCfg(r, s);
        if (!o.IsOk) { empty.Status = (uint)o.Status; return (empty, o); }
        NicScript.Dpu.V1.VdiskGetPvfCfg live = _readBack.WithRunTime(s.Vdisks[r.PvfId]);
        return (new VdiskGetPvfCfgResponse
        {
            Status = 0, PvfId = live.Pvfid, Enable = true, MaxQueue = live.MaxQueue, MsixNum = live.MsixNum, QueueDepth = live.QueueDepth, SectorNum = live.SectorNum,
            NrActiveQueue = live.NrActiveQueue, TransStatus = live.TransStatus, Name = live.Name, PortType = live.PortType,
        }, DpuOutcome.Ok);
    }

    public (VdiskGetAllPvfCfgResponse Reply, DpuOutcome Outcome) VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest r)
    {
        DpuOutcome o = VdiskValidator.VdiskGetAllPvfCfg(r);
        if (!o.IsOk) return (new VdiskGetAllPvfCfgResponse { Status = (uint)o.Status }, o);
        var reply = new VdiskGetAllPvfCfgResponse { Status = 0 };
        reply.Cfgs.AddRange(State.Vdisks.Values.Select(d => r.GetFromHard ? _readBack.FromHardware(d.Pvfid) : _readBack.WithRunTime(d)));
        return (reply, DpuOutcome.Ok);
    }

    // ---------------------------------------------------------------- meters (§6.3)

    public MeterCapabilityResponse MeterCapability() => new() { Status = 0, Total = (uint)Config.MeterTable, Free = (uint)(Config.MeterTable - State.Meters.Count) };

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterAdd(MeterAddRequest r)
    {
        DpuOutcome o = await _writer.Change("MeterAdd", $"id={r.Id}", s => _meter.MeterAdd(r, s)).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterDel(MeterDelRequest r)
    {
        DpuOutcome o = await _writer.Change("MeterDel", $"id={r.Id}", s => MeterValidator.MeterDel(r, s)).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterUpdate(MeterUpdateRequest r)
    {
        DpuOutcome o = await _writer.Change("MeterUpdate", $"id={r.Id}", s => MeterValidator.MeterUpdate(r, s)).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public (MeterGetResponse Reply, DpuOutcome Outcome) MeterGet(MeterGetRequest r)
    {
        var empty = new MeterGetResponse { Id = r.Id, Rate = 0, Type = 0, PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
        DpuState s = State;
        DpuOutcome o = MeterValidator.MeterGet(r, s);
        if (!o.IsOk) { empty.Status = (uint)o.Status; return (empty, o); }
        return (_readBack.WithCounters(s.Meters[r.Id]), DpuOutcome.Ok);
    }

    public MeterListResponse MeterList()
    {
        var reply = new MeterListResponse { Status = 0 };
        reply.Meters.AddRange(State.Meters.Values.Select(_readBack.WithCounters));
        return reply;
    }

    // ---------------------------------------------------------------- classifier and SoC switching (§6.4)

    public async Task<(ClassifierOpsRsp Reply, DpuOutcome Outcome)> ClassifierWrite(ClassifierWriteRequest r)
    {
        DpuOutcome o = await _writer.Change("ClassifierWrite", $"key_index={r.KeyIndex}", s => _traffic.ClassifierWrite(r, s)).ConfigureAwait(false);
        return (new ClassifierOpsRsp { Status = (uint)o.Status, KeyIndex = r.KeyIndex }, o);
    }

    public async Task<(ClassifierOpsRsp Reply, DpuOutcome Outcome)> ClassifierDelete(ClassifierDeleteRequest r)
    {
        DpuOutcome o = await _writer.Change("ClassifierDelete", $"key_index={r.KeyIndex}", s => TrafficControlValidator.ClassifierDelete(r, s)).ConfigureAwait(false);
        return (new ClassifierOpsRsp { Status = (uint)o.Status, KeyIndex = r.KeyIndex }, o);
    }

    public (ClassifierReadResponse Reply, DpuOutcome Outcome) ClassifierRead(ClassifierReadRequest r)
    {
        var empty = new ClassifierReadResponse { Action = DpuReadBack.ZeroAction(), MaskRuleKey = DpuReadBack.ZeroKey(), HitPackets = 0, HitBytes = 0 };
        DpuState s = State;
        DpuOutcome o = TrafficControlValidator.ClassifierRead(r, s);
        if (!o.IsOk) { empty.Status = (uint)o.Status; return (empty, o); }
        return (_readBack.Full(s.Rules[r.KeyIndex]), DpuOutcome.Ok);
    }

    public ClassifierCapabilityResponse ClassifierCapability() => new() { Status = 0, Total = (uint)Config.ClassifierTable, Free = (uint)(Config.ClassifierTable - State.Rules.Count) };

    public ClassifierListResponse ClassifierList()
    {
        var reply = new ClassifierListResponse { Status = 0 };
        reply.Rules.AddRange(State.Rules.Values.Select(_readBack.Full));
        return reply;
    }

    public async Task<(ProcSwitchResponse Reply, DpuOutcome Outcome)> ProcSwitch(ProcSwitchRequest r)
    {
        DpuOutcome o = await _writer.Change("ProcSwitch", $"{r.SrcPfid}->{r.DestPfid}", s => _traffic.ProcSwitch(r, s)).ConfigureAwait(false);
        return (new ProcSwitchResponse { Status = (uint)o.Status }, o);
    }

    public ProcSwitchListResponse ProcSwitchList()
    {
        var reply = new ProcSwitchListResponse { Status = 0, SocPortCnt = (uint)Config.SocPorts };
        reply.Switches.AddRange(State.Switches.Select(kv => new ProcSwitchEntry { SrcPfid = kv.Key, DestPfid = kv.Value }));
        return reply;
    }

    // ---------------------------------------------------------------- port statistics (§6.5)

    public (GetPortStatsResponse Reply, DpuOutcome Outcome) GetPortStats(GetPortStatsRequest r)
    {
        var reply = new GetPortStatsResponse { Vid = r.Vid, RxPackets = 0, TxPackets = 0, RxBytes = 0, TxBytes = 0, RxDrop = 0, TxDrop = 0, RxError = 0, TxError = 0 };
        DpuOutcome o = _portStats.GetPortStats(r, State);
        reply.Status = (uint)o.Status;
        if (o.IsOk) _readBack.PortCounters(reply, r.Vid);
        return (reply, o);
    }

    // ---------------------------------------------------------------- optical ports (§6.6)

    /// <summary>Link as the optical port's wire says (its carrier): speed and full duplex while up, 0 and false while down.</summary>
    public (EthMacGetLinkResponse Reply, DpuOutcome Outcome) EthMacGetLink(EthMacGetLinkRequest r)
    {
        DpuOutcome o = _optical.CheckOptical(r.HasPortId, r.PortId);
        bool up = o.IsOk && _readBack.LinkUp(r.PortId);
        var link = new EthLink { LinkSpeed = up ? Config.OpticalSpeedMbps : 0, LinkDuplex = up, LinkAutoneg = o.IsOk, LinkStatus = up };
        return (new EthMacGetLinkResponse { Status = (uint)o.Status, Link = link }, o);
    }

    public (EthMacGetMtuResponse Reply, DpuOutcome Outcome) EthMacGetMtu(EthMacGetMtuRequest r)
    {
        DpuOutcome o = _optical.CheckOptical(r.HasPortId, r.PortId);
        return (new EthMacGetMtuResponse { Status = (uint)o.Status, PortId = r.PortId, Mtu = o.IsOk ? State.OpticalMtu[(int)r.PortId] : 0 }, o);
    }

    public (EthMacGetStatsResponse Reply, DpuOutcome Outcome) EthMacGetStats(EthMacGetStatsRequest r)
    {
        DpuOutcome o = _optical.CheckOptical(r.HasPortId, r.PortId);
        var reply = new EthMacGetStatsResponse { Status = (uint)o.Status, Ipackets = 0, Opackets = 0, Ibytes = 0, Obytes = 0, Imissed = 0, Ierrors = 0, Oerrors = 0, RxNombuf = 0 };
        if (!o.IsOk) return (reply, o);
        _readBack.OpticalCounters(reply, r.PortId);
        return (reply, o);
    }

    public async Task<(EthMacSetMtuResponse Reply, DpuOutcome Outcome)> EthMacSetMtu(EthMacSetMtuRequest r)
    {
        DpuOutcome o = await _writer.Change("EthMacSetMtu", $"port_id={r.PortId}", s => _optical.EthMacSetMtu(r, s)).ConfigureAwait(false);
        return (new EthMacSetMtuResponse { Status = (uint)o.Status, PortId = r.PortId }, o);
    }

    public async Task<(EthMacBondSetResponse Reply, DpuOutcome Outcome)> EthMacBondSet(EthMacBondSetRequest r)
    {
        DpuOutcome o = await _writer.Change("EthMacBondSet", $"enable={r.Enable}", s => _optical.EthMacBondSet(r, s)).ConfigureAwait(false);
        return (new EthMacBondSetResponse { Status = (uint)o.Status }, o);
    }

    /// <summary>The bond as configured, with the member the switch is using now.</summary>
    public EthMacBondGetResponse EthMacBondGet()
    {
        var reply = new EthMacBondGetResponse(State.Bond) { Status = 0, OpticalPortCnt = (uint)Config.OpticalPorts };
        if (reply.Enable && _readBack.ActiveMember() is var active && active >= 0) reply.ActivePortId = (uint)active;
        return reply;
    }

    public void Dispose()
    {
        _programmer.CloseVdisks(State); // the agent stops: the disks' files close, their data stays
        _writer.Complete(); // changes already handed over are finished first
        _store.Dispose();
    }
}
