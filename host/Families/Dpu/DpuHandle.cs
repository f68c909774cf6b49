using System.Dynamic;
using System.Text.Json;
using Google.Protobuf;
using NicScript.Dpu.V1;
using NicScript.Host.Dpu;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>
/// The <c>dpu</c> global: every rpc of the six DPU services (reference/dpu.md §3), in-process on the same agent objects the
/// gRPC server uses. C# passes and gets the generated messages; JavaScript passes plain objects with the seed's field names
/// (<c>{uuid: "a", max_qpair: 4}</c>) and gets plain objects back. A non-zero <c>status</c> throws a <see cref="DpuException"/>
/// (status name, number and detail); <c>dpu.noThrow = true</c> returns such replies instead. Needs <c>CAP_DPU_ADMIN</c>.
/// </summary>
public sealed class DpuHandle
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));
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

    /// <summary>True: replies with a non-zero status are returned, not thrown.</summary>
    [ScriptApi] public bool NoThrow { get; set; }

    /// <summary>The same switch for JavaScript, which cannot assign CLR properties: <c>dpu.setNoThrow(true)</c>.</summary>
    [ScriptApi] public void SetNoThrow(bool on) => NoThrow = on;

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

    private static T Parse<T>(IDictionary<string, object?> fields, string rpc) where T : IMessage<T>, new()
    {
        string json = JsonSerializer.Serialize(fields);
        try
        {
            return JsonParser.Default.Parse<T>(json);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ScriptCallException($"dpu.{rpc}: {e.Message}");
        }
    }

    /// <summary>A reply as a plain object: every field by its proto name, zeros included; bytes as hex, 64-bit numbers as numbers.</summary>
    private static ExpandoObject View(IMessage reply)
    {
        using JsonDocument doc = JsonDocument.Parse(Formatter.Format(reply));
        return (ExpandoObject)ToObject(doc.RootElement, reply.Descriptor)!;
    }

    private static object? ToObject(JsonElement e, Google.Protobuf.Reflection.MessageDescriptor? d)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                IDictionary<string, object?> o = new ExpandoObject();
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    var field = d?.FindFieldByName(p.Name);
                    o[p.Name] = field?.FieldType == Google.Protobuf.Reflection.FieldType.Bytes && p.Value.ValueKind == JsonValueKind.String
                        ? Convert.ToHexStringLower(Convert.FromBase64String(p.Value.GetString()!))
                        : ToObject(p.Value, field?.FieldType == Google.Protobuf.Reflection.FieldType.Message ? field.MessageType : null);
                }
                return (ExpandoObject)o;
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(x => ToObject(x, d)).ToArray();
            case JsonValueKind.String:
                string s = e.GetString()!;
                return double.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out double n) && s.Length < 20 ? n : s;
            case JsonValueKind.Number:
                return e.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    /// <summary><c>GetPortCapability</c> (GetPortCapabilityRequest → GetPortCapabilityResponse).</summary>
    [ScriptApi] public GetPortCapabilityResponse GetPortCapability(GetPortCapabilityRequest request) => Check(Run(request, r => (Agent.GetPortCapability(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject GetPortCapability(IDictionary<string, object?> request) => View(Check(Run(Parse<GetPortCapabilityRequest>(request, "GetPortCapability"), r => (Agent.GetPortCapability(), DpuOutcome.Ok))));

    /// <summary><c>NewPort</c> (NewPortRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep NewPort(NewPortRequest request) => Check(Run(request, r => Agent.NewPort(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject NewPort(IDictionary<string, object?> request) => View(Check(Run(Parse<NewPortRequest>(request, "NewPort"), r => Agent.NewPort(r).GetAwaiter().GetResult())));

    /// <summary><c>DelPort</c> (DelPortRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep DelPort(DelPortRequest request) => Check(Run(request, r => Agent.DelPort(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject DelPort(IDictionary<string, object?> request) => View(Check(Run(Parse<DelPortRequest>(request, "DelPort"), r => Agent.DelPort(r).GetAwaiter().GetResult())));

    /// <summary><c>SetPortCfg</c> (SetPortCfgRequest → PortOpsRep).</summary>
    [ScriptApi] public PortOpsRep SetPortCfg(SetPortCfgRequest request) => Check(Run(request, r => Agent.SetPortCfg(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject SetPortCfg(IDictionary<string, object?> request) => View(Check(Run(Parse<SetPortCfgRequest>(request, "SetPortCfg"), r => Agent.SetPortCfg(r).GetAwaiter().GetResult())));

    /// <summary><c>GetPortCfg</c> (GetPortCfgRequest → GetPortCfgResponse).</summary>
    [ScriptApi] public GetPortCfgResponse GetPortCfg(GetPortCfgRequest request) => Check(Run(request, r => Agent.GetPortCfg(r)));
    [ScriptApi] public ExpandoObject GetPortCfg(IDictionary<string, object?> request) => View(Check(Run(Parse<GetPortCfgRequest>(request, "GetPortCfg"), r => Agent.GetPortCfg(r))));

    /// <summary><c>QueryPort</c> (QueryPortRequest → QueryPortResponse).</summary>
    [ScriptApi] public QueryPortResponse QueryPort(QueryPortRequest request) => Check(Run(request, r => (Agent.QueryPort(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject QueryPort(IDictionary<string, object?> request) => View(Check(Run(Parse<QueryPortRequest>(request, "QueryPort"), r => (Agent.QueryPort(), DpuOutcome.Ok))));

    /// <summary><c>VdiskGetPvfCapability</c> (VdiskGetPvfCapabilityRequest → VdiskGetPvfCapabilityResponse).</summary>
    [ScriptApi] public VdiskGetPvfCapabilityResponse VdiskGetPvfCapability(VdiskGetPvfCapabilityRequest request) => Check(Run(request, r => (Agent.VdiskGetPvfCapability(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject VdiskGetPvfCapability(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskGetPvfCapabilityRequest>(request, "VdiskGetPvfCapability"), r => (Agent.VdiskGetPvfCapability(), DpuOutcome.Ok))));

    /// <summary><c>VdiskCreate</c> (VdiskCreateRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskCreate(VdiskCreateRequest request) => Check(Run(request, r => Agent.VdiskCreate(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject VdiskCreate(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskCreateRequest>(request, "VdiskCreate"), r => Agent.VdiskCreate(r).GetAwaiter().GetResult())));

    /// <summary><c>VdiskDestroy</c> (VdiskDestroyRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskDestroy(VdiskDestroyRequest request) => Check(Run(request, r => Agent.VdiskDestroy(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject VdiskDestroy(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskDestroyRequest>(request, "VdiskDestroy"), r => Agent.VdiskDestroy(r).GetAwaiter().GetResult())));

    /// <summary><c>VdiskUpdate</c> (VdiskUpdateRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskUpdate(VdiskUpdateRequest request) => Check(Run(request, r => Agent.VdiskUpdate(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject VdiskUpdate(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskUpdateRequest>(request, "VdiskUpdate"), r => Agent.VdiskUpdate(r).GetAwaiter().GetResult())));

    /// <summary><c>VdiskPause</c> (VdiskPauseRequest → VdiskOpsRsp).</summary>
    [ScriptApi] public VdiskOpsRsp VdiskPause(VdiskPauseRequest request) => Check(Run(request, r => Agent.VdiskPause(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject VdiskPause(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskPauseRequest>(request, "VdiskPause"), r => Agent.VdiskPause(r).GetAwaiter().GetResult())));

    /// <summary><c>VdiskGetPvfCfg</c> (VdiskGetPvfCfgRequest → VdiskGetPvfCfgResponse).</summary>
    [ScriptApi] public VdiskGetPvfCfgResponse VdiskGetPvfCfg(VdiskGetPvfCfgRequest request) => Check(Run(request, r => Agent.VdiskGetPvfCfg(r)));
    [ScriptApi] public ExpandoObject VdiskGetPvfCfg(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskGetPvfCfgRequest>(request, "VdiskGetPvfCfg"), r => Agent.VdiskGetPvfCfg(r))));

    /// <summary><c>VdiskGetAllPvfCfg</c> (VdiskGetAllPvfCfgRequest → VdiskGetAllPvfCfgResponse).</summary>
    [ScriptApi] public VdiskGetAllPvfCfgResponse VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest request) => Check(Run(request, r => Agent.VdiskGetAllPvfCfg(r)));
    [ScriptApi] public ExpandoObject VdiskGetAllPvfCfg(IDictionary<string, object?> request) => View(Check(Run(Parse<VdiskGetAllPvfCfgRequest>(request, "VdiskGetAllPvfCfg"), r => Agent.VdiskGetAllPvfCfg(r))));

    /// <summary><c>MeterCapability</c> (MeterCapabilityRequest → MeterCapabilityResponse).</summary>
    [ScriptApi] public MeterCapabilityResponse MeterCapability(MeterCapabilityRequest request) => Check(Run(request, r => (Agent.MeterCapability(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject MeterCapability(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterCapabilityRequest>(request, "MeterCapability"), r => (Agent.MeterCapability(), DpuOutcome.Ok))));

    /// <summary><c>MeterAdd</c> (MeterAddRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterAdd(MeterAddRequest request) => Check(Run(request, r => Agent.MeterAdd(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject MeterAdd(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterAddRequest>(request, "MeterAdd"), r => Agent.MeterAdd(r).GetAwaiter().GetResult())));

    /// <summary><c>MeterDel</c> (MeterDelRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterDel(MeterDelRequest request) => Check(Run(request, r => Agent.MeterDel(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject MeterDel(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterDelRequest>(request, "MeterDel"), r => Agent.MeterDel(r).GetAwaiter().GetResult())));

    /// <summary><c>MeterUpdate</c> (MeterUpdateRequest → MeterOpsRsp).</summary>
    [ScriptApi] public MeterOpsRsp MeterUpdate(MeterUpdateRequest request) => Check(Run(request, r => Agent.MeterUpdate(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject MeterUpdate(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterUpdateRequest>(request, "MeterUpdate"), r => Agent.MeterUpdate(r).GetAwaiter().GetResult())));

    /// <summary><c>MeterGet</c> (MeterGetRequest → MeterGetResponse).</summary>
    [ScriptApi] public MeterGetResponse MeterGet(MeterGetRequest request) => Check(Run(request, r => Agent.MeterGet(r)));
    [ScriptApi] public ExpandoObject MeterGet(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterGetRequest>(request, "MeterGet"), r => Agent.MeterGet(r))));

    /// <summary><c>MeterList</c> (MeterListRequest → MeterListResponse).</summary>
    [ScriptApi] public MeterListResponse MeterList(MeterListRequest request) => Check(Run(request, r => (Agent.MeterList(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject MeterList(IDictionary<string, object?> request) => View(Check(Run(Parse<MeterListRequest>(request, "MeterList"), r => (Agent.MeterList(), DpuOutcome.Ok))));

    /// <summary><c>ClassifierWrite</c> (ClassifierWriteRequest → ClassifierOpsRsp).</summary>
    [ScriptApi] public ClassifierOpsRsp ClassifierWrite(ClassifierWriteRequest request) => Check(Run(request, r => Agent.ClassifierWrite(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject ClassifierWrite(IDictionary<string, object?> request) => View(Check(Run(Parse<ClassifierWriteRequest>(request, "ClassifierWrite"), r => Agent.ClassifierWrite(r).GetAwaiter().GetResult())));

    /// <summary><c>ClassifierDelete</c> (ClassifierDeleteRequest → ClassifierOpsRsp).</summary>
    [ScriptApi] public ClassifierOpsRsp ClassifierDelete(ClassifierDeleteRequest request) => Check(Run(request, r => Agent.ClassifierDelete(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject ClassifierDelete(IDictionary<string, object?> request) => View(Check(Run(Parse<ClassifierDeleteRequest>(request, "ClassifierDelete"), r => Agent.ClassifierDelete(r).GetAwaiter().GetResult())));

    /// <summary><c>ClassifierRead</c> (ClassifierReadRequest → ClassifierReadResponse).</summary>
    [ScriptApi] public ClassifierReadResponse ClassifierRead(ClassifierReadRequest request) => Check(Run(request, r => Agent.ClassifierRead(r)));
    [ScriptApi] public ExpandoObject ClassifierRead(IDictionary<string, object?> request) => View(Check(Run(Parse<ClassifierReadRequest>(request, "ClassifierRead"), r => Agent.ClassifierRead(r))));

    /// <summary><c>ClassifierCapability</c> (ClassifierCapabilityRequest → ClassifierCapabilityResponse).</summary>
    [ScriptApi] public ClassifierCapabilityResponse ClassifierCapability(ClassifierCapabilityRequest request) => Check(Run(request, r => (Agent.ClassifierCapability(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject ClassifierCapability(IDictionary<string, object?> request) => View(Check(Run(Parse<ClassifierCapabilityRequest>(request, "ClassifierCapability"), r => (Agent.ClassifierCapability(), DpuOutcome.Ok))));

    /// <summary><c>ClassifierList</c> (ClassifierListRequest → ClassifierListResponse).</summary>
    [ScriptApi] public ClassifierListResponse ClassifierList(ClassifierListRequest request) => Check(Run(request, r => (Agent.ClassifierList(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject ClassifierList(IDictionary<string, object?> request) => View(Check(Run(Parse<ClassifierListRequest>(request, "ClassifierList"), r => (Agent.ClassifierList(), DpuOutcome.Ok))));

    /// <summary><c>ProcSwitch</c> (ProcSwitchRequest → ProcSwitchResponse).</summary>
    [ScriptApi] public ProcSwitchResponse ProcSwitch(ProcSwitchRequest request) => Check(Run(request, r => Agent.ProcSwitch(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject ProcSwitch(IDictionary<string, object?> request) => View(Check(Run(Parse<ProcSwitchRequest>(request, "ProcSwitch"), r => Agent.ProcSwitch(r).GetAwaiter().GetResult())));

    /// <summary><c>ProcSwitchList</c> (ProcSwitchListRequest → ProcSwitchListResponse).</summary>
    [ScriptApi] public ProcSwitchListResponse ProcSwitchList(ProcSwitchListRequest request) => Check(Run(request, r => (Agent.ProcSwitchList(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject ProcSwitchList(IDictionary<string, object?> request) => View(Check(Run(Parse<ProcSwitchListRequest>(request, "ProcSwitchList"), r => (Agent.ProcSwitchList(), DpuOutcome.Ok))));

    /// <summary><c>GetPortStats</c> (GetPortStatsRequest → GetPortStatsResponse).</summary>
    [ScriptApi] public GetPortStatsResponse GetPortStats(GetPortStatsRequest request) => Check(Run(request, r => Agent.GetPortStats(r)));
    [ScriptApi] public ExpandoObject GetPortStats(IDictionary<string, object?> request) => View(Check(Run(Parse<GetPortStatsRequest>(request, "GetPortStats"), r => Agent.GetPortStats(r))));

    /// <summary><c>EthMacBondSet</c> (EthMacBondSetRequest → EthMacBondSetResponse).</summary>
    [ScriptApi] public EthMacBondSetResponse EthMacBondSet(EthMacBondSetRequest request) => Check(Run(request, r => Agent.EthMacBondSet(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject EthMacBondSet(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacBondSetRequest>(request, "EthMacBondSet"), r => Agent.EthMacBondSet(r).GetAwaiter().GetResult())));

    /// <summary><c>EthMacBondGet</c> (EthMacBondGetRequest → EthMacBondGetResponse).</summary>
    [ScriptApi] public EthMacBondGetResponse EthMacBondGet(EthMacBondGetRequest request) => Check(Run(request, r => (Agent.EthMacBondGet(), DpuOutcome.Ok)));
    [ScriptApi] public ExpandoObject EthMacBondGet(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacBondGetRequest>(request, "EthMacBondGet"), r => (Agent.EthMacBondGet(), DpuOutcome.Ok))));

    /// <summary><c>EthMacGetStats</c> (EthMacGetStatsRequest → EthMacGetStatsResponse).</summary>
    [ScriptApi] public EthMacGetStatsResponse EthMacGetStats(EthMacGetStatsRequest request) => Check(Run(request, r => Agent.EthMacGetStats(r)));
    [ScriptApi] public ExpandoObject EthMacGetStats(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacGetStatsRequest>(request, "EthMacGetStats"), r => Agent.EthMacGetStats(r))));

    /// <summary><c>EthMacGetLink</c> (EthMacGetLinkRequest → EthMacGetLinkResponse).</summary>
    [ScriptApi] public EthMacGetLinkResponse EthMacGetLink(EthMacGetLinkRequest request) => Check(Run(request, r => Agent.EthMacGetLink(r)));
    [ScriptApi] public ExpandoObject EthMacGetLink(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacGetLinkRequest>(request, "EthMacGetLink"), r => Agent.EthMacGetLink(r))));

    /// <summary><c>EthMacGetMtu</c> (EthMacGetMtuRequest → EthMacGetMtuResponse).</summary>
    [ScriptApi] public EthMacGetMtuResponse EthMacGetMtu(EthMacGetMtuRequest request) => Check(Run(request, r => Agent.EthMacGetMtu(r)));
    [ScriptApi] public ExpandoObject EthMacGetMtu(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacGetMtuRequest>(request, "EthMacGetMtu"), r => Agent.EthMacGetMtu(r))));

    /// <summary><c>EthMacSetMtu</c> (EthMacSetMtuRequest → EthMacSetMtuResponse).</summary>
    [ScriptApi] public EthMacSetMtuResponse EthMacSetMtu(EthMacSetMtuRequest request) => Check(Run(request, r => Agent.EthMacSetMtu(r).GetAwaiter().GetResult()));
    [ScriptApi] public ExpandoObject EthMacSetMtu(IDictionary<string, object?> request) => View(Check(Run(Parse<EthMacSetMtuRequest>(request, "EthMacSetMtu"), r => Agent.EthMacSetMtu(r).GetAwaiter().GetResult())));
}

/// <summary>A DPU rpc answered with a non-zero status: the name (<c>NOT_FOUND</c>), the number and the agent's detail line.</summary>
public sealed class DpuException(DpuStatus status, string detail) : UserErrorException($"{DpuAgent.StatusName(status)}: {detail}")
{
    [ScriptApi] public string Status { get; } = DpuAgent.StatusName(status);
    [ScriptApi] public int Code { get; } = (int)status;
    [ScriptApi] public string Detail { get; } = detail;
}
