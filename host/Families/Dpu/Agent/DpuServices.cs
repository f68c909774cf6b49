using Grpc.Core;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>Adds the <c>nicscript-status</c> / <c>nicscript-detail</c> trailers when an rpc's status is not OK (reference §4).</summary>
internal static class Trailers
{
    public static T With<T>(this ServerCallContext ctx, T reply, DpuStatus status, string detail)
    {
        if (status != DpuStatus.Ok)
        {
            ctx.ResponseTrailers.Add("nicscript-status", DpuAgent.StatusName(status));
            ctx.ResponseTrailers.Add("nicscript-detail", detail.Length == 0 ? DpuAgent.StatusName(status) : new string(detail.Where(c => c is >= ' ' and <= '~').ToArray()));
        }
        return reply;
    }

    public static T With<T>(this ServerCallContext ctx, (T Reply, DpuOutcome Outcome) r) => ctx.With(r.Reply, r.Outcome.Status, r.Outcome.Detail);

    public static async Task<T> With<T>(this ServerCallContext ctx, Task<(T Reply, DpuOutcome Outcome)> call) => ctx.With(await call.ConfigureAwait(false));
}

public sealed class ElasticNicRpc(DpuAgent agent) : ElasticNicService.ElasticNicServiceBase
{
    public override Task<GetPortCapabilityResponse> GetPortCapability(GetPortCapabilityRequest r, ServerCallContext c) => Task.FromResult(agent.GetPortCapability());
    public override Task<PortOpsRep> NewPort(NewPortRequest r, ServerCallContext c) => c.With(agent.NewPort(r));
    public override Task<PortOpsRep> DelPort(DelPortRequest r, ServerCallContext c) => c.With(agent.DelPort(r));
    public override Task<PortOpsRep> SetPortCfg(SetPortCfgRequest r, ServerCallContext c) => c.With(agent.SetPortCfg(r));
    public override Task<GetPortCfgResponse> GetPortCfg(GetPortCfgRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.GetPortCfg(r)));
    public override Task<QueryPortResponse> QueryPort(QueryPortRequest r, ServerCallContext c) => Task.FromResult(agent.QueryPort());
}

public sealed class VdiskRpc(DpuAgent agent) : VdiskService.VdiskServiceBase
{
    public override Task<VdiskGetPvfCapabilityResponse> VdiskGetPvfCapability(VdiskGetPvfCapabilityRequest r, ServerCallContext c) => Task.FromResult(agent.VdiskGetPvfCapability());
    public override Task<VdiskOpsRsp> VdiskCreate(VdiskCreateRequest r, ServerCallContext c) => c.With(agent.VdiskCreate(r));
    public override Task<VdiskOpsRsp> VdiskDestroy(VdiskDestroyRequest r, ServerCallContext c) => c.With(agent.VdiskDestroy(r));
    public override Task<VdiskOpsRsp> VdiskUpdate(VdiskUpdateRequest r, ServerCallContext c) => c.With(agent.VdiskUpdate(r));
    public override Task<VdiskOpsRsp> VdiskPause(VdiskPauseRequest r, ServerCallContext c) => c.With(agent.VdiskPause(r));
    public override Task<VdiskGetPvfCfgResponse> VdiskGetPvfCfg(VdiskGetPvfCfgRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.VdiskGetPvfCfg(r)));
    public override Task<VdiskGetAllPvfCfgResponse> VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.VdiskGetAllPvfCfg(r)));
}

public sealed class MeterRpc(DpuAgent agent) : MeterService.MeterServiceBase
{
    public override Task<MeterCapabilityResponse> MeterCapability(MeterCapabilityRequest r, ServerCallContext c) => Task.FromResult(agent.MeterCapability());
    public override Task<MeterOpsRsp> MeterAdd(MeterAddRequest r, ServerCallContext c) => c.With(agent.MeterAdd(r));
    public override Task<MeterOpsRsp> MeterDel(MeterDelRequest r, ServerCallContext c) => c.With(agent.MeterDel(r));
    public override Task<MeterOpsRsp> MeterUpdate(MeterUpdateRequest r, ServerCallContext c) => c.With(agent.MeterUpdate(r));
    public override Task<MeterGetResponse> MeterGet(MeterGetRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.MeterGet(r)));
    public override Task<MeterListResponse> MeterList(MeterListRequest r, ServerCallContext c) => Task.FromResult(agent.MeterList());
}

public sealed class TrafficControlRpc(DpuAgent agent) : TrafficControlService.TrafficControlServiceBase
{
    public override Task<ClassifierOpsRsp> ClassifierWrite(ClassifierWriteRequest r, ServerCallContext c) => c.With(agent.ClassifierWrite(r));
    public override Task<ClassifierOpsRsp> ClassifierDelete(ClassifierDeleteRequest r, ServerCallContext c) => c.With(agent.ClassifierDelete(r));
    public override Task<ClassifierReadResponse> ClassifierRead(ClassifierReadRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.ClassifierRead(r)));
    public override Task<ClassifierCapabilityResponse> ClassifierCapability(ClassifierCapabilityRequest r, ServerCallContext c) => Task.FromResult(agent.ClassifierCapability());
    public override Task<ClassifierListResponse> ClassifierList(ClassifierListRequest r, ServerCallContext c) => Task.FromResult(agent.ClassifierList());
    public override Task<ProcSwitchResponse> ProcSwitch(ProcSwitchRequest r, ServerCallContext c) => c.With(agent.ProcSwitch(r));
    public override Task<ProcSwitchListResponse> ProcSwitchList(ProcSwitchListRequest r, ServerCallContext c) => Task.FromResult(agent.ProcSwitchList());
}

public sealed class PortStatsRpc(DpuAgent agent) : PortStatsService.PortStatsServiceBase
{
    public override Task<GetPortStatsResponse> GetPortStats(GetPortStatsRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.GetPortStats(r)));
}

public sealed class OpticalPortRpc(DpuAgent agent) : OpticalPortService.OpticalPortServiceBase
{
    public override Task<EthMacBondSetResponse> EthMacBondSet(EthMacBondSetRequest r, ServerCallContext c) => c.With(agent.EthMacBondSet(r));
    public override Task<EthMacBondGetResponse> EthMacBondGet(EthMacBondGetRequest r, ServerCallContext c) => Task.FromResult(agent.EthMacBondGet());
    public override Task<EthMacGetStatsResponse> EthMacGetStats(EthMacGetStatsRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.EthMacGetStats(r)));
    public override Task<EthMacGetLinkResponse> EthMacGetLink(EthMacGetLinkRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.EthMacGetLink(r)));
    public override Task<EthMacGetMtuResponse> EthMacGetMtu(EthMacGetMtuRequest r, ServerCallContext c) => Task.FromResult(c.With(agent.EthMacGetMtu(r)));
    public override Task<EthMacSetMtuResponse> EthMacSetMtu(EthMacSetMtuRequest r, ServerCallContext c) => c.With(agent.EthMacSetMtu(r));
}
