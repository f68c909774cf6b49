using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;
using NicScript.Host.Manifests;

using NicScript.Host.Capabilities;

namespace NicScript.Host.Families.Dpu;

/// <summary>
/// The <c>dpu</c> global: every rpc of the six DPU services (reference/dpu.md §3), in-process on the same agent objects the
/// gRPC server uses, one method per rpc taking and returning the generated messages; JavaScript passes plain objects with
/// the seed's field names (<c>{uuid: "a", max_qpair: 4}</c>) and gets plain objects back (the script marshaller converts). A non-zero <c>status</c> throws a <see cref="DpuException"/>
/// (status name, number and detail); <c>dpu.noThrow = true</c> returns such replies instead. Needs <c>CAP_DPU_ADMIN</c>.
/// </summary>
public sealed class DpuHandle
{
    private readonly VNodeContext _ctx;
    private readonly Func<DpuAgent?> _agent;

    public DpuHandle(VNodeContext ctx, Func<DpuAgent?> agent)
    {
        _ctx = ctx;
        _agent = agent;
        ctx.OnRelease(() =>
        {
            foreach (DpuWireHandle w in _wires.Values) w.Release(); // a stopped V-Node lets go of the cables it held
            _wires.Clear();
        });
    }

    /// <summary>True: replies with a non-zero status are returned, not thrown (<c>Dpu.NoThrow = true</c>, <c>dpu.noThrow = true</c>).</summary>
    [ScriptApi] public bool NoThrow { get; set; }

    private readonly Dictionary<string, DpuWireHandle> _wires = new(StringComparer.Ordinal);

    /// <summary>The outside end of a DPU cable — <c>"optical0"</c>, <c>"optical1"</c>, … or <c>"soc0"</c>, … — as a traffic
    /// source and sink with the cable's carrier (reference/dpu.md §5.8: the emulator's optical-port control).</summary>
    [ScriptApi]
    public DpuWireHandle Wire(string name)
    {
        DpuAgent agent = Agent;
        if (_wires.TryGetValue(name, out DpuWireHandle? known)) return known;
        NicScript.Driver.Devices.Dpu.DpuSwitch sw = agent.Device.Switch;
        NicScript.Driver.Wire.Link link = name switch
        {
            _ when name.StartsWith("optical", StringComparison.Ordinal) && int.TryParse(name.AsSpan(7), out int p) && p >= 0 && p < agent.Config.OpticalPorts => sw.OpticalWire(p),
            _ when name.StartsWith("soc", StringComparison.Ordinal) && int.TryParse(name.AsSpan(3), out int p) && p >= 0 && p < agent.Config.SocPorts => sw.SocWire(p),
            _ => throw new ScriptCallException($"dpu.wire(\"{name}\"): the DPU has optical0..optical{agent.Config.OpticalPorts - 1} and soc0..soc{agent.Config.SocPorts - 1}"),
        };
        NicScript.Driver.Wire.FrameGenerator generator;
        try
        {
            generator = new NicScript.Driver.Wire.FrameGenerator(link);
        }
        catch (InvalidOperationException)
        {
            throw new ScriptCallException($"dpu.wire(\"{name}\"): the cable's outside end is taken (a machine-file wire or another V-Node)");
        }
        return _wires[name] = new DpuWireHandle(generator);
    }

    private DpuAgent Agent
    {
        get
        {
            _ctx.Require(CapabilityKind.DpuAdmin);
            return _agent() ?? throw new ScriptCallException("dpu: this run has no DPU agent (run with --dpu-state DIR, or on a machine with a DPU)");
        }
    }

    // The agent's awaits must not come back to the V-Node's loop, which blocks here until they are done.
    private (T Reply, DpuOutcome Outcome) Run<TReq, T>(TReq request, Func<TReq, (T, DpuOutcome)> call)
    {
        using var _ = NicScript.Host.Runtime.VNodeSynchronizationContext.Suppress();
        return call(request);
    }

    private T Check<T>((T Reply, DpuOutcome Outcome) r)
    {
        if (!r.Outcome.IsOk && !NoThrow) throw new DpuException(r.Outcome.Status, r.Outcome.Detail);
        return r.Reply;
    }

    /// <summary><c>GetPortCapability</c> (GetPortCapabilityRequest → GetPortCapabilityResponse).</summary>
    [ScriptApi] public GetPortCapabilityResponse GetPortCapability(GetPortCapabilityRequest request) => Check(Run(request, r => (Agent.GetPortCapability(), DpuOutcome.Ok)));

    /// <summary><c>NewPort</c> (NewPortRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep NewPort(NewPortRequest request) => Check(Run(request, r => Agent.NewPort(r).GetAwaiter().GetResult()));

    /// <summary><c>DelPort</c> (DelPortRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep DelPort(DelPortRequest request) => Check(Run(request, r => Agent.DelPort(r).GetAwaiter().GetResult()));

    /// <summary><c>SetPortCfg</c> (SetPortCfgRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep SetPortCfg(SetPortCfgRequest request) => Check(Run(request, r => Agent.SetPortCfg(r).GetAwaiter().GetResult()));

    /// <summary><c>GetPortCfg</c> (GetPortCfgRequest → GetPortCfgResponse).</summary>
    [ScriptApi] public GetPortCfgResponse GetPortCfg(GetPortCfgRequest request) => Check(Run(request, r => Agent.GetPortCfg(r)));

    /// <summary><c>QueryPort</c> (QueryPortRequest → QueryPortResponse).</summary>
    [ScriptApi] public QueryPortResponse QueryPort(QueryPortRequest request) => Check(Run(request, r => (Agent.QueryPort(), DpuOutcome.Ok)));

    /// <summary><c>VdiskGetPvfCapability</c> (VdiskGetPvfCapabilityRequest → VdiskGetPvfCapabilityResponse).</summary>
    [ScriptApi] public VdiskGetPvfCapabilityResponse VdiskGetPvfCapability(VdiskGetPvfCapabilityRequest request) => Check(Run(request, r => (Agent.VdiskGetPvfCapability(), DpuOutcome.Ok)));

    /// <summary><c>VdiskCreate</c> (VdiskCreateRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskCreate(VdiskCreateRequest request) => Check(Run(request, r => Agent.VdiskCreate(r).GetAwaiter().GetResult()));

    /// <summary><c>VdiskDestroy</c> (VdiskDestroyRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskDestroy(VdiskDestroyRequest request) => Check(Run(request, r => Agent.VdiskDestroy(r).GetAwaiter().GetResult()));

    /// <summary><c>VdiskUpdate</c> (VdiskUpdateRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskUpdate(VdiskUpdateRequest request) => Check(Run(request, r => Agent.VdiskUpdate(r).GetAwaiter().GetResult()));

    /// <summary><c>VdiskPause</c> (VdiskPauseRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskPause(VdiskPauseRequest request) => Check(Run(request, r => Agent.VdiskPause(r).GetAwaiter().GetResult()));

    /// <summary><c>VdiskGetPvfCfg</c> (VdiskGetPvfCfgRequest → VdiskGetPvfCfgResponse).</summary>
    [ScriptApi] public VdiskGetPvfCfgResponse VdiskGetPvfCfg(VdiskGetPvfCfgRequest request) => Check(Run(request, r => Agent.VdiskGetPvfCfg(r)));

    /// <summary><c>VdiskGetAllPvfCfg</c> (VdiskGetAllPvfCfgRequest → VdiskGetAllPvfCfgResponse).</summary>
    [ScriptApi] public VdiskGetAllPvfCfgResponse VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest request) => Check(Run(request, r => Agent.VdiskGetAllPvfCfg(r)));

    /// <summary><c>MeterCapability</c> (MeterCapabilityRequest → MeterCapabilityResponse).</summary>
    [ScriptApi] public MeterCapabilityResponse MeterCapability(MeterCapabilityRequest request) => Check(Run(request, r => (Agent.MeterCapability(), DpuOutcome.Ok)));

    /// <summary><c>MeterAdd</c> (MeterAddRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterAdd(MeterAddRequest request) => Check(Run(request, r => Agent.MeterAdd(r).GetAwaiter().GetResult()));

    /// <summary><c>MeterDel</c> (MeterDelRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterDel(MeterDelRequest request) => Check(Run(request, r => Agent.MeterDel(r).GetAwaiter().GetResult()));

    /// <summary><c>MeterUpdate</c> (MeterUpdateRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterUpdate(MeterUpdateRequest request) => Check(Run(request, r => Agent.MeterUpdate(r).GetAwaiter().GetResult()));

    /// <summary><c>MeterGet</c> (MeterGetRequest → MeterGetResponse).</summary>
    [ScriptApi] public MeterGetResponse MeterGet(MeterGetRequest request) => Check(Run(request, r => Agent.MeterGet(r)));

    /// <summary><c>MeterList</c> (MeterListRequest → MeterListResponse).</summary>
    [ScriptApi] public MeterListResponse MeterList(MeterListRequest request) => Check(Run(request, r => (Agent.MeterList(), DpuOutcome.Ok)));

    /// <summary><c>ClassifierWrite</c> (ClassifierWriteRequest → ClassifierOpsRsp).</summary>
    [ScriptApi] public ClassifierOpsRsp ClassifierWrite(ClassifierWriteRequest request) => Check(Run(request, r => Agent.ClassifierWrite(r).GetAwaiter().GetResult()));

    /// <summary><c>ClassifierDelete</c> (ClassifierDeleteRequest → ClassifierOpsRsp).</summary>
    [ScriptApi] public ClassifierOpsRsp ClassifierDelete(ClassifierDeleteRequest request) => Check(Run(request, r => Agent.ClassifierDelete(r).GetAwaiter().GetResult()));

    /// <summary><c>ClassifierRead</c> (ClassifierReadRequest → ClassifierReadResponse).</summary>
    [ScriptApi] public ClassifierReadResponse ClassifierRead(ClassifierReadRequest request) => Check(Run(request, r => Agent.ClassifierRead(r)));

    /// <summary><c>ClassifierCapability</c> (ClassifierCapabilityRequest → ClassifierCapabilityResponse).</summary>
    [ScriptApi] public ClassifierCapabilityResponse ClassifierCapability(ClassifierCapabilityRequest request) => Check(Run(request, r => (Agent.ClassifierCapability(), DpuOutcome.Ok)));

    /// <summary><c>ClassifierList</c> (ClassifierListRequest → ClassifierListResponse).</summary>
    [ScriptApi] public ClassifierListResponse ClassifierList(ClassifierListRequest request) => Check(Run(request, r => (Agent.ClassifierList(), DpuOutcome.Ok)));

    /// <summary><c>ProcSwitch</c> (ProcSwitchRequest → ProcSwitchResponse).</summary>
    [ScriptApi] public ProcSwitchResponse ProcSwitch(ProcSwitchRequest request) => Check(Run(request, r => Agent.ProcSwitch(r).GetAwaiter().GetResult()));

    /// <summary><c>ProcSwitchList</c> (ProcSwitchListRequest → ProcSwitchListResponse).</summary>
    [ScriptApi] public ProcSwitchListResponse ProcSwitchList(ProcSwitchListRequest request) => Check(Run(request, r => (Agent.ProcSwitchList(), DpuOutcome.Ok)));

    /// <summary><c>GetPortStats</c> (GetPortStatsRequest → GetPortStatsResponse).</summary>
    [ScriptApi] public GetPortStatsResponse GetPortStats(GetPortStatsRequest request) => Check(Run(request, r => Agent.GetPortStats(r)));

    /// <summary><c>EthMacBondSet</c> (EthMacBondSetRequest → EthMacBondSetResponse).</summary>
    [ScriptApi] public EthMacBondSetResponse EthMacBondSet(EthMacBondSetRequest request) => Check(Run(request, r => Agent.EthMacBondSet(r).GetAwaiter().GetResult()));

    /// <summary><c>EthMacBondGet</c> (EthMacBondGetRequest → EthMacBondGetResponse).</summary>
    [ScriptApi] public EthMacBondGetResponse EthMacBondGet(EthMacBondGetRequest request) => Check(Run(request, r => (Agent.EthMacBondGet(), DpuOutcome.Ok)));

    /// <summary><c>EthMacGetStats</c> (EthMacGetStatsRequest → EthMacGetStatsResponse).</summary>
    [ScriptApi] public EthMacGetStatsResponse EthMacGetStats(EthMacGetStatsRequest request) => Check(Run(request, r => Agent.EthMacGetStats(r)));

    /// <summary><c>EthMacGetLink</c> (EthMacGetLinkRequest → EthMacGetLinkResponse).</summary>
    [ScriptApi] public EthMacGetLinkResponse EthMacGetLink(EthMacGetLinkRequest request) => Check(Run(request, r => Agent.EthMacGetLink(r)));

    /// <summary><c>EthMacGetMtu</c> (EthMacGetMtuRequest → EthMacGetMtuResponse).</summary>
    [ScriptApi] public EthMacGetMtuResponse EthMacGetMtu(EthMacGetMtuRequest request) => Check(Run(request, r => Agent.EthMacGetMtu(r)));

    /// <summary><c>EthMacSetMtu</c> (EthMacSetMtuRequest → EthMacSetMtuResponse).</summary>
    [ScriptApi] public EthMacSetMtuResponse EthMacSetMtu(EthMacSetMtuRequest request) => Check(Run(request, r => Agent.EthMacSetMtu(r).GetAwaiter().GetResult()));
}

/// <summary>A DPU rpc answered with a non-zero status: the name (<c>NOT_FOUND</c>), the number and the agent's detail line.</summary>
public sealed class DpuException(DpuStatus status, string detail) : UserErrorException($"{DpuAgent.StatusName(status)}: {detail}")
{
    [ScriptApi] public string Status { get; } = DpuAgent.StatusName(status);
    [ScriptApi] public int Code { get; } = (int)status;
    [ScriptApi] public string Detail { get; } = detail;
}
