using System.Text.RegularExpressions;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Families.Dpu.Agent.DpuChange;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the Vdisk service's requests must satisfy (reference/dpu.md §6.2), checked against the current state:
/// a refusal with its status and detail, nothing to do, or the change with its rows and device step.</summary>
internal sealed partial class VdiskValidator(DpuConfig config)
{
    private DpuConfig Config => config;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex VdiskName();

    /// <summary>VdiskCreate: idempotent by name; <paramref name="id"/> is set to the disk's pvf_id once one is known
    /// (the new one or the name's existing one); a refusal before that leaves it as the caller set it.</summary>
    public DpuChange VdiskCreate(VdiskCreateRequest r, DpuState s, ref uint id)
    {
        if (!r.HasName || !VdiskName().IsMatch(r.Name)) return Refuse(DpuStatus.InvalidArgument, "name must be 1-64 characters of [A-Za-z0-9._-]");
        if (r.HasPvfId && r.PvfId >= Config.VdiskSlots) return Refuse(DpuStatus.InvalidArgument, $"pvf_id {r.PvfId} is not below {Config.VdiskSlots}");
        if (r.HasMaxQueue && (r.MaxQueue < 1 || r.MaxQueue > Config.MaxQueue)) return Refuse(DpuStatus.InvalidArgument, $"max_queue {r.MaxQueue} is not 1..{Config.MaxQueue}");
        if (r.HasQueueDepth && (!System.Numerics.BitOperations.IsPow2(r.QueueDepth) || r.QueueDepth < 2 || r.QueueDepth > Config.MaxQueueDepth)) return Refuse(DpuStatus.InvalidArgument, $"queue_depth {r.QueueDepth} is not a power of two 2..{Config.MaxQueueDepth}");
        if (r.HasMsix && (r.Msix < 1 || r.Msix > 2048)) return Refuse(DpuStatus.InvalidArgument, $"msix {r.Msix} is not 1..2048");
        if (s.Vdisks.Values.FirstOrDefault(d => d.Name == r.Name) is { } existing)
        {
            id = existing.Pvfid;
            bool same = (!r.HasPvfId || r.PvfId == existing.Pvfid) && (!r.HasMaxQueue || r.MaxQueue == existing.MaxQueue)
                && (!r.HasQueueDepth || r.QueueDepth == existing.QueueDepth) && (!r.HasMsix || r.Msix == existing.MsixNum);
            return same ? Nothing() : Refuse(DpuStatus.AlreadyExists, $"vdisk {r.Name} is pvf_id {existing.Pvfid} with other settings");
        }
        if (r.HasPvfId && s.Vdisks.ContainsKey(r.PvfId)) return Refuse(DpuStatus.AlreadyExists, $"pvf_id {r.PvfId} is taken");
        if (!r.HasPvfId)
        {
            uint free = 0;
            while (free < Config.VdiskSlots && s.Vdisks.ContainsKey(free)) free++;
            if (free == Config.VdiskSlots) return Refuse(DpuStatus.NoResource, $"all {Config.VdiskSlots} vdisk slots are in use");
            id = free;
        }
        else id = r.PvfId;
        uint queues = r.HasMaxQueue ? r.MaxQueue : 1;
        var disk = new NicScript.Dpu.V1.VdiskGetPvfCfg
        {
            Pvfid = id, Enable = true, MaxQueue = queues, MsixNum = r.HasMsix ? r.Msix : queues + 1, QueueDepth = r.HasQueueDepth ? r.QueueDepth : 128,
            SectorNum = 0, NrActiveQueue = 0, TransStatus = (uint)VdiskTransStatus.Idle, Name = r.Name, PortType = id == 0 ? PvfType.PfType : PvfType.VfType,
        };
        return Done(s with { Vdisks = s.Vdisks.SetItem(id, disk) }, [("vdisks", id, Bytes(disk))], new DpuDeviceStep.AddVdisk(disk));
    }

    public static DpuChange VdiskDestroy(VdiskDestroyRequest r, DpuState s)
    {
        if (!r.HasPvfId) return Refuse(DpuStatus.InvalidArgument, "pvf_id must be present");
        if (!s.Vdisks.ContainsKey(r.PvfId)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
        return Done(s with { Vdisks = s.Vdisks.Remove(r.PvfId) }, [("vdisks", r.PvfId, null)], new DpuDeviceStep.RemoveVdisk(r.PvfId));
    }

    public DpuChange VdiskUpdate(VdiskUpdateRequest r, DpuState s)
    {
        if (!r.HasPvfId || !r.HasNumberSectors) return Refuse(DpuStatus.InvalidArgument, "pvf_id and number_sectors must be present");
        if (!s.Vdisks.TryGetValue(r.PvfId, out NicScript.Dpu.V1.VdiskGetPvfCfg? d)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
        if (r.NumberSectors < d.SectorNum) return Refuse(DpuStatus.InvalidArgument, $"number_sectors {r.NumberSectors} would shrink the disk (now {d.SectorNum})");
        if (r.NumberSectors > Config.MaxSectors) return Refuse(DpuStatus.InvalidArgument, $"number_sectors {r.NumberSectors} is above the largest disk, {Config.MaxSectors}");
        if (r.NumberSectors == d.SectorNum) return Nothing();
        var next = new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { SectorNum = r.NumberSectors };
        return Done(s with { Vdisks = s.Vdisks.SetItem(r.PvfId, next) }, [("vdisks", r.PvfId, Bytes(next))], new DpuDeviceStep.ResizeVdisk(r.PvfId, r.NumberSectors));
    }

    public static DpuChange VdiskPause(VdiskPauseRequest r, DpuState s)
    {
        if (!r.HasPvfId || !r.HasPause) return Refuse(DpuStatus.InvalidArgument, "pvf_id and pause must be present");
        if (!s.Vdisks.TryGetValue(r.PvfId, out NicScript.Dpu.V1.VdiskGetPvfCfg? d)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
        uint status = r.Pause ? (uint)VdiskTransStatus.Paused : (uint)VdiskTransStatus.Idle;
        if (d.TransStatus == status) return Nothing();
        var next = new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { TransStatus = status };
        return Done(s with { Vdisks = s.Vdisks.SetItem(r.PvfId, next) }, [("vdisks", r.PvfId, Bytes(next))], new DpuDeviceStep.PauseVdisk(r.PvfId, r.Pause));
    }

    /// <summary>VdiskGetPvfCfg: the pvf_id must be given and exist.</summary>
    public static DpuOutcome VdiskGetPvfCfg(VdiskGetPvfCfgRequest r, DpuState s) =>
        !r.HasPvfId ? new(DpuStatus.InvalidArgument, "pvf_id must be present")
        : !s.Vdisks.ContainsKey(r.PvfId) ? new(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist")
        : DpuOutcome.Ok;

    /// <summary>VdiskGetAllPvfCfg: get_from_hard must be given.</summary>
    public static DpuOutcome VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest r) =>
        !r.HasGetFromHard ? new(DpuStatus.InvalidArgument, "get_from_hard must be present") : DpuOutcome.Ok;
}
