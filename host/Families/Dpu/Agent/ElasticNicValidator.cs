using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Families.Dpu.Agent.DpuChange;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What the ElasticNic service's requests must satisfy (reference/dpu.md §6.1), checked against the current
/// state: a refusal with its status and detail, nothing to do, or the change with its rows and device step.</summary>
internal sealed class ElasticNicValidator(DpuConfig config)
{
    public const ulong SupportedFeatures = 1UL << 0 | 1UL << 1 | 1UL << 3 | 1UL << 5 | 1UL << 15 | 1UL << 16 | 1UL << 17 | 1UL << 18 | 1UL << 22
        | 1UL << 23 | 1UL << 28 | 1UL << 29 | 1UL << 32;
    public const ulong DefaultFeatures = 0x100438028;
    private const ulong FeatureMq = 1UL << 22, FeatureVersion1 = 1UL << 32;

    private DpuConfig Config => config;

    private static string Mac(ByteString m) => Driver.Wire.MacAddress.Format(m.Span);

    /// <summary>Range checks shared by NewPort and SetPortCfg; null when every present field is valid.</summary>
    private DpuOutcome? CheckPortFields(bool hasMaxQpair, uint maxQpair, bool hasMtu, uint mtu, bool hasMac, ByteString mac, bool hasDepth, uint depth, bool hasFeatures, ulong features, uint effectiveQpair, ulong effectiveFeatures)
    {
        if (hasMaxQpair && (maxQpair < 1 || maxQpair > Config.MaxQpair)) return new(DpuStatus.InvalidArgument, $"max_qpair {maxQpair} is not 1..{Config.MaxQpair}");
        if (hasMtu && (mtu < DpuConfig.MinMtu || mtu > DpuConfig.MaxMtu)) return new(DpuStatus.InvalidArgument, $"mtu {mtu} is not {DpuConfig.MinMtu}..{DpuConfig.MaxMtu}");
        if (hasMac && (mac.Length != 6 || mac.All(b => b == 0) || (mac[0] & 1) != 0)) return new(DpuStatus.InvalidArgument, $"mac {Mac(mac)} is not a unicast, non-zero 6-byte address");
        if (hasDepth && (!System.Numerics.BitOperations.IsPow2(depth) || depth < 2 || depth > Config.MaxQueueDepth)) return new(DpuStatus.InvalidArgument, $"queue_depth {depth} is not a power of two 2..{Config.MaxQueueDepth}");
        if (hasFeatures && (features & ~SupportedFeatures) != 0) return new(DpuStatus.Unsupported, $"feature_list 0x{features:x} has bits outside the supported 0x{SupportedFeatures:x}");
        if ((effectiveFeatures & FeatureVersion1) == 0) return new(DpuStatus.InvalidArgument, "feature_list lacks VERSION_1 (bit 32)");
        if (effectiveQpair > 1 && (effectiveFeatures & FeatureMq) == 0) return new(DpuStatus.InvalidArgument, $"max_qpair {effectiveQpair} needs MQ (bit 22) in feature_list");
        return null;
    }

    /// <summary>NewPort: idempotent by uuid; <paramref name="vport"/> is set to the port's vport whenever one is known
    /// (the new one, the uuid's existing one, or the taken one asked for).</summary>
    public DpuChange NewPort(NewPortRequest r, DpuState s, ref uint vport)
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
        return Done(s with { Ports = s.Ports.SetItem(vport, port) }, [("ports", vport, Bytes(port))], new DpuDeviceStep.AddElasticNic(vport, port));
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

    public static DpuChange DelPort(DelPortRequest r, DpuState s)
    {
        if (!r.HasVport) return Refuse(DpuStatus.InvalidArgument, "vport must be present");
        if (!s.Ports.ContainsKey(r.Vport)) return Refuse(DpuStatus.NotFound, $"vport {r.Vport} does not exist");
        if (s.Rules.FirstOrDefault(kv => kv.Value.Action.Vid == (int)r.Vport) is { Value: not null } rule)
            return Refuse(DpuStatus.InUse, $"classifier rule key_index {rule.Key} targets vport {r.Vport}");
        uint v = r.Vport;
        return Done(s with { Ports = s.Ports.Remove(v) }, [("ports", v, null)], new DpuDeviceStep.RemoveElasticNic(v));
    }

    public DpuChange SetPortCfg(SetPortCfgRequest r, DpuState s)
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
        return Done(s with { Ports = s.Ports.SetItem(v, next) }, [("ports", v, Bytes(next))], new DpuDeviceStep.ReconfigureElasticNic(v, next));
    }

    /// <summary>GetPortCfg: the vport must be given and exist.</summary>
    public static DpuOutcome GetPortCfg(GetPortCfgRequest r, DpuState s) =>
        !r.HasVport ? new(DpuStatus.InvalidArgument, "vport must be present")
        : !s.Ports.ContainsKey(r.Vport) ? new(DpuStatus.NotFound, $"vport {r.Vport} does not exist")
        : DpuOutcome.Ok;
}
