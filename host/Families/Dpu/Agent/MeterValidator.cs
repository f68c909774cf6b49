using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Families.Dpu.Agent.DpuChange;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the Meter service's requests must satisfy (reference/dpu.md §6.3), checked against the current state:
/// a refusal with its status and detail, nothing to do, or the change with its rows (meters live in the switch only).</summary>
internal sealed class MeterValidator(DpuConfig config)
{
    private DpuConfig Config => config;

    public DpuChange MeterAdd(MeterAddRequest r, DpuState s)
    {
        if (!r.HasId || !r.HasRate || r.Rate < 1) return Refuse(DpuStatus.InvalidArgument, "id and rate (>= 1) must be present");
        if (r.HasType && r.Type > 1) return Refuse(DpuStatus.InvalidArgument, $"type {r.Type} is not 0 (bytes) or 1 (packets)");
        uint type = r.HasType ? r.Type : 0;
        if (s.Meters.TryGetValue(r.Id, out MeterGetResponse? m))
            return m.Rate == r.Rate && m.Type == type ? Nothing() : Refuse(DpuStatus.AlreadyExists, $"meter {r.Id} exists with rate {m.Rate} type {m.Type}");
        if (s.Meters.Count >= Config.MeterTable) return Refuse(DpuStatus.NoResource, $"the meter table holds {Config.MeterTable}");
        var meter = new MeterGetResponse { Status = 0, Id = r.Id, Rate = r.Rate, Type = type, PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
        return Done(s with { Meters = s.Meters.SetItem(r.Id, meter) }, [("meters", r.Id, Bytes(meter))]);
    }

    public static DpuChange MeterDel(MeterDelRequest r, DpuState s)
    {
        if (!r.HasId) return Refuse(DpuStatus.InvalidArgument, "id must be present");
        if (!s.Meters.TryGetValue(r.Id, out MeterGetResponse? m)) return Refuse(DpuStatus.NotFound, $"meter {r.Id} does not exist");
        if (s.Rules.FirstOrDefault(kv => kv.Value.Action.HasMeterId && kv.Value.Action.MeterId == r.Id) is { Value: not null } rule)
            return Refuse(DpuStatus.InUse, $"classifier rule key_index {rule.Key} uses meter {r.Id}");
        return Done(s with { Meters = s.Meters.Remove(r.Id) }, [("meters", r.Id, null)]);
    }

    public static DpuChange MeterUpdate(MeterUpdateRequest r, DpuState s)
    {
        if (!r.HasId || !r.HasRate) return Refuse(DpuStatus.InvalidArgument, "id and rate must be present");
        if (!s.Meters.TryGetValue(r.Id, out MeterGetResponse? m)) return Refuse(DpuStatus.NotFound, $"meter {r.Id} does not exist");
        if (r.Rate < 1) return Refuse(DpuStatus.InvalidArgument, "rate must be at least 1");
        if (r.HasType && r.Type > 1) return Refuse(DpuStatus.InvalidArgument, $"type {r.Type} is not 0 or 1");
        uint type = r.HasType ? r.Type : m.Type;
        if (m.Rate == r.Rate && m.Type == type) return Nothing();
        var next = new MeterGetResponse(m) { Rate = r.Rate, Type = type };
        return Done(s with { Meters = s.Meters.SetItem(r.Id, next) }, [("meters", r.Id, Bytes(next))]);
    }

    /// <summary>MeterGet: the id must be given and exist.</summary>
    public static DpuOutcome MeterGet(MeterGetRequest r, DpuState s) =>
        !r.HasId ? new(DpuStatus.InvalidArgument, "id must be present")
        : !s.Meters.ContainsKey(r.Id) ? new(DpuStatus.NotFound, $"meter {r.Id} does not exist")
        : DpuOutcome.Ok;
}
