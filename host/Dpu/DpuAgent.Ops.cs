using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Dpu.V1;

namespace NicScript.Host.Dpu;

public sealed partial class DpuAgent
{
    // ---------------------------------------------------------------- elastic NICs (§6.1)

    public GetPortCapabilityResponse GetPortCapability() =>
        new() { Status = 0, TotalPvfCnt = (uint)Config.ElasticNicSlots, FreePvfCnt = (uint)(Config.ElasticNicSlots - State.Ports.Count) };

    private static string Mac(ByteString m) => Driver.Wire.MacAddress.Format(m.Span);

    /// <summary>Range checks shared by NewPort and SetPortCfg; null when every present field is valid.</summary>
    private DpuOutcome? CheckPortFields(bool hasMaxQpair, uint maxQpair, bool hasMtu, uint mtu, bool hasMac, ByteString mac, bool hasDepth, uint depth, bool hasFeatures, ulong features, uint effectiveQpair, ulong effectiveFeatures)
    {
        if (hasMaxQpair && (maxQpair < 1 || maxQpair > Config.MaxQpair)) return new(DpuStatus.InvalidArgument, $"max_qpair {maxQpair} is not 1..{Config.MaxQpair}");
        if (hasMtu && (mtu < DpuConfig.MinMtu || mtu > DpuConfig.MaxMtu)) return new(DpuStatus.InvalidArgument, $"mtu {mtu} is not {DpuConfig.MinMtu}..{DpuConfig.MaxMtu}");
        if (hasMac && (mac.Length != 6 || mac.All(b => b == 0) || (mac[0] & 1) != 0)) return new(DpuStatus.InvalidArgument, $"mac {Mac(mac)} is not a unicast, non-zero 6-byte address");
        if (hasDepth && (!IsPowerOfTwo(depth) || depth < 2 || depth > Config.MaxQueueDepth)) return new(DpuStatus.InvalidArgument, $"queue_depth {depth} is not a power of two 2..{Config.MaxQueueDepth}");
        if (hasFeatures && (features & ~SupportedFeatures) != 0) return new(DpuStatus.Unsupported, $"feature_list 0x{features:x} has bits outside the supported 0x{SupportedFeatures:x}");
        if ((effectiveFeatures & FeatureVersion1) == 0) return new(DpuStatus.InvalidArgument, "feature_list lacks VERSION_1 (bit 32)");
        if (effectiveQpair > 1 && (effectiveFeatures & FeatureMq) == 0) return new(DpuStatus.InvalidArgument, $"max_qpair {effectiveQpair} needs MQ (bit 22) in feature_list");
        return null;
    }

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> NewPort(NewPortRequest r)
    {
        uint vport = 0;
        DpuOutcome o = await Change("NewPort", $"uuid={r.Uuid}", s =>
        {
            if (!r.HasUuid || r.Uuid.Length is < 1 or > 64 || r.Uuid.Any(ch => ch <= ' ' || ch > '~')) return Refuse(DpuStatus.InvalidArgument, "uuid must be 1-64 printable ASCII characters without spaces");
            if (r.HasVport && r.Vport >= Config.ElasticNicSlots) return Refuse(DpuStatus.InvalidArgument, $"vport {r.Vport} is not below {Config.ElasticNicSlots}");
            uint qpair = r.HasMaxQpair ? r.MaxQpair : 1;
            ulong features = r.HasFeatureList ? r.FeatureList : DefaultFeatures;
            if (CheckPortFields(r.HasMaxQpair, r.MaxQpair, r.HasMtu, r.Mtu, r.HasMac, r.Mac, r.HasQueueDepth, r.QueueDepth, r.HasFeatureList, r.FeatureList, qpair, features) is { } bad) return Refuse(bad.Status, bad.Detail);
            if (s.Ports.Values.FirstOrDefault(p => p.Uuid == r.Uuid) is { } existing)
            {
                vport = existing.Vport;
                bool same = (!r.HasVport || r.Vport == existing.Vport) && (!r.HasMaxQpair || r.MaxQpair == existing.MaxQpair) && (!r.HasMtu || r.Mtu == existing.Mtu)
                    && (!r.HasMac || r.Mac == existing.Mac) && (!r.HasQueueDepth || r.QueueDepth == existing.QueueDepth) && (!r.HasFeatureList || r.FeatureList == existing.FeatureList);
                return same ? Nothing() : Refuse(DpuStatus.AlreadyExists, $"uuid {r.Uuid} is vport {existing.Vport} with other settings");
            }
            if (r.HasVport && s.Ports.ContainsKey(r.Vport))
            {
                vport = r.Vport;
                return Refuse(DpuStatus.AlreadyExists, $"vport {r.Vport} is taken");
            }
            if (r.HasMac && s.Ports.Values.FirstOrDefault(p => p.Mac == r.Mac) is { } holder) return Refuse(DpuStatus.AlreadyExists, $"mac {Mac(r.Mac)} is held by vport {holder.Vport}");
            if (!r.HasVport)
            {
                uint free = 0;
                while (free < Config.ElasticNicSlots && s.Ports.ContainsKey(free)) free++;
                if (free == Config.ElasticNicSlots) return Refuse(DpuStatus.NoResource, $"all {Config.ElasticNicSlots} elastic NIC slots are in use");
                vport = free;
            }
            else vport = r.Vport;
            ByteString mac = r.HasMac ? r.Mac : DefaultMac(s, vport);
            var port = new PortCfg
            {
                Vport = vport, Uuid = r.Uuid, Enable = true, MaxQpair = qpair, Mtu = r.HasMtu ? r.Mtu : 1500, Mac = mac,
                QueueDepth = r.HasQueueDepth ? r.QueueDepth : 256, ActiveQpair = 0, FeatureList = features,
            };
            uint v = vport;
            return Done(s with { Ports = s.Ports.SetItem(vport, port) }, [("ports", vport, Bytes(port))], () =>
            {
                if (!_device.AddElasticNic(v, mac.ToByteArray(), port.Mtu, port.MaxQpair, port.FeatureList)) throw new InvalidOperationException($"PCI address {DpuDevice.ElasticNicAddress(v)} is taken");
            });
        }).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = vport }, o);
    }

    /// <summary>02:4e:53:00:HH:LL with HHLL = vport, moved to the next free value if another port holds it.</summary>
    private static ByteString DefaultMac(DpuState s, uint vport)
    {
        for (uint n = vport; ; n++)
        {
            var mac = ByteString.CopyFrom(0x02, 0x4e, 0x53, 0x00, (byte)(n >> 8), (byte)n);
            if (!s.Ports.Values.Any(p => p.Mac == mac)) return mac;
        }
    }

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> DelPort(DelPortRequest r)
    {
        DpuOutcome o = await Change("DelPort", $"vport={r.Vport}", s =>
        {
            if (!r.HasVport) return Refuse(DpuStatus.InvalidArgument, "vport must be present");
            if (!s.Ports.ContainsKey(r.Vport)) return Refuse(DpuStatus.NotFound, $"vport {r.Vport} does not exist");
            if (s.Rules.FirstOrDefault(kv => kv.Value.Action.Vid == (int)r.Vport) is { Value: not null } rule)
                return Refuse(DpuStatus.InUse, $"classifier rule key_index {rule.Key} targets vport {r.Vport}");
            uint v = r.Vport;
            return Done(s with { Ports = s.Ports.Remove(v) }, [("ports", v, null)], () => _device.RemoveElasticNic(v));
        }).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = r.Vport }, o);
    }

    public async Task<(PortOpsRep Reply, DpuOutcome Outcome)> SetPortCfg(SetPortCfgRequest r)
    {
        DpuOutcome o = await Change("SetPortCfg", $"vport={r.Vport}", s =>
        {
            if (!r.HasVport) return Refuse(DpuStatus.InvalidArgument, "vport must be present");
            if (!s.Ports.TryGetValue(r.Vport, out PortCfg? p)) return Refuse(DpuStatus.NotFound, $"vport {r.Vport} does not exist");
            uint qpair = r.HasMaxQpair ? r.MaxQpair : p.MaxQpair;
            ulong features = r.HasFeatureList ? r.FeatureList : p.FeatureList;
            if (CheckPortFields(r.HasMaxQpair, r.MaxQpair, r.HasMtu, r.Mtu, r.HasMac, r.Mac, r.HasQueueDepth, r.QueueDepth, r.HasFeatureList, r.FeatureList, qpair, features) is { } bad) return Refuse(bad.Status, bad.Detail);
            if (r.HasMac && s.Ports.Values.FirstOrDefault(x => x.Mac == r.Mac && x.Vport != r.Vport) is { } holder) return Refuse(DpuStatus.AlreadyExists, $"mac {Mac(r.Mac)} is held by vport {holder.Vport}");
            if (r.HasMaxQpair && s.Rules.FirstOrDefault(kv => kv.Value.Action.Vid == (int)r.Vport && kv.Value.Action.Qid >= (int)r.MaxQpair) is { Value: not null } rule)
                return Refuse(DpuStatus.InUse, $"classifier rule key_index {rule.Key} uses queue {rule.Value.Action.Qid} of vport {r.Vport}");
            var next = new PortCfg(p) { MaxQpair = qpair, Mtu = r.HasMtu ? r.Mtu : p.Mtu, Mac = r.HasMac ? r.Mac : p.Mac, QueueDepth = r.HasQueueDepth ? r.QueueDepth : p.QueueDepth, FeatureList = features };
            if (next.Equals(p)) return Nothing();
            uint v = r.Vport;
            return Done(s with { Ports = s.Ports.SetItem(v, next) }, [("ports", v, Bytes(next))], () => _device.ReconfigureElasticNic(v, next.Mac.ToByteArray(), next.Mtu, next.MaxQpair, next.FeatureList));
        }).ConfigureAwait(false);
        return (new PortOpsRep { Status = (uint)o.Status, Vport = r.Vport }, o);
    }

    public (GetPortCfgResponse Reply, DpuOutcome Outcome) GetPortCfg(GetPortCfgRequest r)
    {
        if (!r.HasVport) return (EmptyPortCfg(DpuStatus.InvalidArgument, 0), new(DpuStatus.InvalidArgument, "vport must be present"));
        if (!State.Ports.TryGetValue(r.Vport, out PortCfg? p)) return (EmptyPortCfg(DpuStatus.NotFound, r.Vport), new(DpuStatus.NotFound, $"vport {r.Vport} does not exist"));
        return (new GetPortCfgResponse
        {
            Status = 0, Enable = true, MaxQpair = p.MaxQpair, Mtu = p.Mtu, Mac = p.Mac, Uuid = p.Uuid, Vport = p.Vport, QueueDepth = p.QueueDepth,
            ActiveQpair = ActiveQpair(p.Vport), FeatureList = p.FeatureList,
        }, DpuOutcome.Ok);
    }

    private static GetPortCfgResponse EmptyPortCfg(DpuStatus status, uint vport) => new()
    {
        Status = (uint)status, Enable = false, MaxQpair = 0, Mtu = 0, Mac = ByteString.Empty, Uuid = "", Vport = vport, QueueDepth = 0, ActiveQpair = 0, FeatureList = 0,
    };

    public QueryPortResponse QueryPort()
    {
        var reply = new QueryPortResponse { Status = 0 };
        reply.Ports.AddRange(State.Ports.Values.Select(p => new PortCfg(p) { ActiveQpair = ActiveQpair(p.Vport) }));
        return reply;
    }

    /// <summary>Queue pairs the host driver has in use (the device knows; 0 with no driver).</summary>
    private uint ActiveQpair(uint vport) => (uint)(_device.ElasticNic(vport)?.ActivePairs ?? 0);

    // ---------------------------------------------------------------- virtual disks (§6.2)

    public VdiskGetPvfCapabilityResponse VdiskGetPvfCapability() =>
        new() { Status = 0, TotalPvfCnt = (uint)Config.VdiskSlots, FreePvfCnt = (uint)(Config.VdiskSlots - State.Vdisks.Count) };

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskCreate(VdiskCreateRequest r)
    {
        uint id = r.PvfId;
        DpuOutcome o = await Change("VdiskCreate", $"name={r.Name}", s =>
        {
            if (!r.HasName || !VdiskName().IsMatch(r.Name)) return Refuse(DpuStatus.InvalidArgument, "name must be 1-64 characters of [A-Za-z0-9._-]");
            if (r.HasPvfId && r.PvfId >= Config.VdiskSlots) return Refuse(DpuStatus.InvalidArgument, $"pvf_id {r.PvfId} is not below {Config.VdiskSlots}");
            if (r.HasMaxQueue && (r.MaxQueue < 1 || r.MaxQueue > Config.MaxQueue)) return Refuse(DpuStatus.InvalidArgument, $"max_queue {r.MaxQueue} is not 1..{Config.MaxQueue}");
            if (r.HasQueueDepth && (!IsPowerOfTwo(r.QueueDepth) || r.QueueDepth < 2 || r.QueueDepth > Config.MaxQueueDepth)) return Refuse(DpuStatus.InvalidArgument, $"queue_depth {r.QueueDepth} is not a power of two 2..{Config.MaxQueueDepth}");
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
            uint queues = r.HasMaxQueue ? r.MaxQueue : 1;
            var disk = new NicScript.Dpu.V1.VdiskGetPvfCfg
            {
                Pvfid = id, Enable = true, MaxQueue = queues, MsixNum = r.HasMsix ? r.Msix : queues + 1, QueueDepth = r.HasQueueDepth ? r.QueueDepth : 128,
                SectorNum = 0, NrActiveQueue = 0, TransStatus = (uint)VdiskTransStatus.Idle, Name = r.Name, PortType = id == 0 ? PvfType.PfType : PvfType.VfType,
            };
            return Done(s with { Vdisks = s.Vdisks.SetItem(id, disk) }, [("vdisks", id, Bytes(disk))], () => AddVdisk(disk, create: true));
        }).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = id }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskDestroy(VdiskDestroyRequest r)
    {
        DpuOutcome o = await Change("VdiskDestroy", $"pvf_id={r.PvfId}", s =>
        {
            if (!r.HasPvfId) return Refuse(DpuStatus.InvalidArgument, "pvf_id must be present");
            if (!s.Vdisks.ContainsKey(r.PvfId)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
            return Done(s with { Vdisks = s.Vdisks.Remove(r.PvfId) }, [("vdisks", r.PvfId, null)], () => _device.RemoveVdisk(r.PvfId, deleteData: true));
        }).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskUpdate(VdiskUpdateRequest r)
    {
        DpuOutcome o = await Change("VdiskUpdate", $"pvf_id={r.PvfId}", s =>
        {
            if (!r.HasPvfId || !r.HasNumberSectors) return Refuse(DpuStatus.InvalidArgument, "pvf_id and number_sectors must be present");
            if (!s.Vdisks.TryGetValue(r.PvfId, out NicScript.Dpu.V1.VdiskGetPvfCfg? d)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
            if (r.NumberSectors < d.SectorNum) return Refuse(DpuStatus.InvalidArgument, $"number_sectors {r.NumberSectors} would shrink the disk (now {d.SectorNum})");
            if (r.NumberSectors > Config.MaxSectors) return Refuse(DpuStatus.InvalidArgument, $"number_sectors {r.NumberSectors} is above the largest disk, {Config.MaxSectors}");
            if (r.NumberSectors == d.SectorNum) return Nothing();
            var next = new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { SectorNum = r.NumberSectors };
            return Done(s with { Vdisks = s.Vdisks.SetItem(r.PvfId, next) }, [("vdisks", r.PvfId, Bytes(next))], () => DiskOf(r.PvfId).Resize(r.NumberSectors));
        }).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public async Task<(VdiskOpsRsp Reply, DpuOutcome Outcome)> VdiskPause(VdiskPauseRequest r)
    {
        DpuOutcome o = await Change("VdiskPause", $"pvf_id={r.PvfId}", s =>
        {
            if (!r.HasPvfId || !r.HasPause) return Refuse(DpuStatus.InvalidArgument, "pvf_id and pause must be present");
            if (!s.Vdisks.TryGetValue(r.PvfId, out NicScript.Dpu.V1.VdiskGetPvfCfg? d)) return Refuse(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist");
            uint status = r.Pause ? (uint)VdiskTransStatus.Paused : (uint)VdiskTransStatus.Idle;
            if (d.TransStatus == status) return Nothing();
            var next = new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { TransStatus = status };
            return Done(s with { Vdisks = s.Vdisks.SetItem(r.PvfId, next) }, [("vdisks", r.PvfId, Bytes(next))], () => DiskOf(r.PvfId).Pause(r.Pause));
        }).ConfigureAwait(false);
        return (new VdiskOpsRsp { Status = (uint)o.Status, PvfId = r.PvfId }, o);
    }

    public (VdiskGetPvfCfgResponse Reply, DpuOutcome Outcome) VdiskGetPvfCfg(VdiskGetPvfCfgRequest r)
    {
        var empty = new VdiskGetPvfCfgResponse { PvfId = r.PvfId, Enable = false, MaxQueue = 0, MsixNum = 0, QueueDepth = 0, SectorNum = 0, NrActiveQueue = 0, TransStatus = 0, Name = "", PortType = PvfType.PfType };
        if (!r.HasPvfId) { empty.Status = (uint)DpuStatus.InvalidArgument; return (empty, new(DpuStatus.InvalidArgument, "pvf_id must be present")); }
        if (!State.Vdisks.TryGetValue(r.PvfId, out NicScript.Dpu.V1.VdiskGetPvfCfg? d)) { empty.Status = (uint)DpuStatus.NotFound; return (empty, new(DpuStatus.NotFound, $"vdisk {r.PvfId} does not exist")); }
        NicScript.Dpu.V1.VdiskGetPvfCfg live = WithRunTime(d);
        return (new VdiskGetPvfCfgResponse
        {
            Status = 0, PvfId = live.Pvfid, Enable = true, MaxQueue = live.MaxQueue, MsixNum = live.MsixNum, QueueDepth = live.QueueDepth, SectorNum = live.SectorNum,
            NrActiveQueue = live.NrActiveQueue, TransStatus = live.TransStatus, Name = live.Name, PortType = live.PortType,
        }, DpuOutcome.Ok);
    }

    public (VdiskGetAllPvfCfgResponse Reply, DpuOutcome Outcome) VdiskGetAllPvfCfg(VdiskGetAllPvfCfgRequest r)
    {
        if (!r.HasGetFromHard) return (new VdiskGetAllPvfCfgResponse { Status = (uint)DpuStatus.InvalidArgument }, new(DpuStatus.InvalidArgument, "get_from_hard must be present"));
        var reply = new VdiskGetAllPvfCfgResponse { Status = 0 };
        reply.Cfgs.AddRange(State.Vdisks.Values.Select(d => r.GetFromHard ? FromHardware(d.Pvfid) : WithRunTime(d)));
        return (reply, DpuOutcome.Ok);
    }

    /// <summary>The backing file of disk <paramref name="pvfId"/>: beside the database, so one directory is the whole state.</summary>
    public string VdiskBackingFile(uint pvfId) => Path.Combine(Path.GetDirectoryName(_store.Path)!, "vdisks", $"{pvfId}.img");

    private void AddVdisk(NicScript.Dpu.V1.VdiskGetPvfCfg d, bool create)
    {
        if (!_device.AddVdisk(d.Pvfid, d.Name, (int)d.MaxQueue, (int)d.QueueDepth, (int)d.MsixNum, d.SectorNum, VdiskBackingFile(d.Pvfid), create,
                paused: d.TransStatus == (uint)VdiskTransStatus.Paused))
            throw new InvalidOperationException($"PCI address {DpuDevice.VdiskAddress(d.Pvfid)} is taken");
    }

    private VirtioBlkDevice DiskOf(uint pvfId) => _device.Vdisk(pvfId) ?? throw new InvalidOperationException($"vdisk {pvfId} has no function on the bus");

    /// <summary>The agent's record with the run-time fields the device knows: queues the driver enabled and the transfer state.</summary>
    private NicScript.Dpu.V1.VdiskGetPvfCfg WithRunTime(NicScript.Dpu.V1.VdiskGetPvfCfg d)
    {
        if (_device.Vdisk(d.Pvfid) is not { } disk) return new NicScript.Dpu.V1.VdiskGetPvfCfg(d);
        return new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { NrActiveQueue = (uint)disk.EnabledQueues, TransStatus = (uint)disk.State };
    }

    /// <summary>Every field read back from the device model: config space, queue registers, MSI-X table, the name it keeps.</summary>
    private NicScript.Dpu.V1.VdiskGetPvfCfg FromHardware(uint pvfId)
    {
        VirtioBlkDevice? disk = _device.Vdisk(pvfId);
        bool present = disk is not null && !disk.Function.Removed;
        return new NicScript.Dpu.V1.VdiskGetPvfCfg
        {
            Pvfid = pvfId, Enable = present, MaxQueue = (uint)(disk?.QueueCount ?? 0), MsixNum = (uint)(disk?.Msix.Count ?? 0),
            QueueDepth = disk?.MaxQueueSize ?? 0, SectorNum = disk?.Capacity ?? 0, NrActiveQueue = (uint)(disk?.EnabledQueues ?? 0),
            TransStatus = (uint)(disk?.State ?? VirtioBlkState.Idle), Name = disk?.Name ?? "", PortType = pvfId == 0 ? PvfType.PfType : PvfType.VfType,
        };
    }

    // ---------------------------------------------------------------- meters (§6.3)

    public MeterCapabilityResponse MeterCapability() => new() { Status = 0, Total = (uint)Config.MeterTable, Free = (uint)(Config.MeterTable - State.Meters.Count) };

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterAdd(MeterAddRequest r)
    {
        DpuOutcome o = await Change("MeterAdd", $"id={r.Id}", s =>
        {
            if (!r.HasId || !r.HasRate || r.Rate < 1) return Refuse(DpuStatus.InvalidArgument, "id and rate (>= 1) must be present");
            if (r.HasType && r.Type > 1) return Refuse(DpuStatus.InvalidArgument, $"type {r.Type} is not 0 (bytes) or 1 (packets)");
            uint type = r.HasType ? r.Type : 0;
            if (s.Meters.TryGetValue(r.Id, out MeterGetResponse? m))
                return m.Rate == r.Rate && m.Type == type ? Nothing() : Refuse(DpuStatus.AlreadyExists, $"meter {r.Id} exists with rate {m.Rate} type {m.Type}");
            if (s.Meters.Count >= Config.MeterTable) return Refuse(DpuStatus.NoResource, $"the meter table holds {Config.MeterTable}");
            var meter = new MeterGetResponse { Status = 0, Id = r.Id, Rate = r.Rate, Type = type, PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
            return Done(s with { Meters = s.Meters.SetItem(r.Id, meter) }, [("meters", r.Id, Bytes(meter))]);
        }).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterDel(MeterDelRequest r)
    {
        DpuOutcome o = await Change("MeterDel", $"id={r.Id}", s =>
        {
            if (!r.HasId) return Refuse(DpuStatus.InvalidArgument, "id must be present");
            if (!s.Meters.TryGetValue(r.Id, out MeterGetResponse? m)) return Refuse(DpuStatus.NotFound, $"meter {r.Id} does not exist");
            if (s.Rules.FirstOrDefault(kv => kv.Value.Action.HasMeterId && kv.Value.Action.MeterId == r.Id) is { Value: not null } rule)
                return Refuse(DpuStatus.InUse, $"classifier rule key_index {rule.Key} uses meter {r.Id}");
            return Done(s with { Meters = s.Meters.Remove(r.Id) }, [("meters", r.Id, null)]);
        }).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public async Task<(MeterOpsRsp Reply, DpuOutcome Outcome)> MeterUpdate(MeterUpdateRequest r)
    {
        DpuOutcome o = await Change("MeterUpdate", $"id={r.Id}", s =>
        {
            if (!r.HasId || !r.HasRate) return Refuse(DpuStatus.InvalidArgument, "id and rate must be present");
            if (!s.Meters.TryGetValue(r.Id, out MeterGetResponse? m)) return Refuse(DpuStatus.NotFound, $"meter {r.Id} does not exist");
            if (r.Rate < 1) return Refuse(DpuStatus.InvalidArgument, "rate must be at least 1");
            if (r.HasType && r.Type > 1) return Refuse(DpuStatus.InvalidArgument, $"type {r.Type} is not 0 or 1");
            uint type = r.HasType ? r.Type : m.Type;
            if (m.Rate == r.Rate && m.Type == type) return Nothing();
            var next = new MeterGetResponse(m) { Rate = r.Rate, Type = type };
            return Done(s with { Meters = s.Meters.SetItem(r.Id, next) }, [("meters", r.Id, Bytes(next))]);
        }).ConfigureAwait(false);
        return (new MeterOpsRsp { Status = (uint)o.Status, Id = r.Id }, o);
    }

    public (MeterGetResponse Reply, DpuOutcome Outcome) MeterGet(MeterGetRequest r)
    {
        var empty = new MeterGetResponse { Id = r.Id, Rate = 0, Type = 0, PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0, RefCnt = 0 };
        if (!r.HasId) { empty.Status = (uint)DpuStatus.InvalidArgument; return (empty, new(DpuStatus.InvalidArgument, "id must be present")); }
        if (!State.Meters.TryGetValue(r.Id, out MeterGetResponse? m)) { empty.Status = (uint)DpuStatus.NotFound; return (empty, new(DpuStatus.NotFound, $"meter {r.Id} does not exist")); }
        return (WithCounters(m), DpuOutcome.Ok);
    }

    public MeterListResponse MeterList()
    {
        var reply = new MeterListResponse { Status = 0 };
        reply.Meters.AddRange(State.Meters.Values.Select(WithCounters));
        return reply;
    }
}
