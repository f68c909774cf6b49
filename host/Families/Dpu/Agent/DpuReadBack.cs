using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What only the device knows, read back into replies: the switch's counters (ports, optical ports, meters,
/// rule hits), link and the bond's active member, and the run-time fields of NICs and disks.</summary>
internal sealed class DpuReadBack(DpuDevice device, DpuProgrammer programmer)
{
    private readonly DpuDevice _device = device;

    /// <summary>Queue pairs the host driver has in use (the device knows; 0 with no driver).</summary>
    public uint ActiveQpair(uint vport) => (uint)(_device.ElasticNic(vport)?.ActivePairs ?? 0);

    /// <summary>The agent's record with the run-time fields the device knows: queues the driver enabled and the transfer state.</summary>
    public NicScript.Dpu.V1.VdiskGetPvfCfg WithRunTime(NicScript.Dpu.V1.VdiskGetPvfCfg d)
    {
        if (_device.Vdisk(d.Pvfid)?.Model is not VirtioBlkDevice disk) return new NicScript.Dpu.V1.VdiskGetPvfCfg(d);
        return new NicScript.Dpu.V1.VdiskGetPvfCfg(d) { NrActiveQueue = (uint)disk.EnabledQueues, TransStatus = (uint)disk.State };
    }

    /// <summary>Every field read back from the device model: config space, queue registers, MSI-X table, the name it keeps.</summary>
    public NicScript.Dpu.V1.VdiskGetPvfCfg FromHardware(uint pvfId)
    {
        var disk = _device.Vdisk(pvfId)?.Model as VirtioBlkDevice;
        bool present = disk is not null && !disk.Function.Removed;
        return new NicScript.Dpu.V1.VdiskGetPvfCfg
        {
            Pvfid = pvfId, Enable = present, MaxQueue = (uint)(disk?.QueueCount ?? 0), MsixNum = (uint)(disk?.Msix.Count ?? 0),
            QueueDepth = disk?.MaxQueueSize ?? 0, SectorNum = disk?.Capacity ?? 0, NrActiveQueue = (uint)(disk?.EnabledQueues ?? 0),
            TransStatus = (uint)(disk?.State ?? VirtioBlkState.Idle), Name = disk?.Name ?? "", PortType = pvfId == 0 ? PvfType.PfType : PvfType.VfType,
        };
    }

    /// <summary>A stored meter with the switch's counters.</summary>
    public MeterGetResponse WithCounters(MeterGetResponse m)
    {
        var reply = new MeterGetResponse(m) { Status = 0 };
        if (_device.Switch.Meter(m.Id) is { } live)
        {
            reply.PassPackets = (ulong)live.PassPackets;
            reply.PassBytes = (ulong)live.PassBytes;
            reply.DropPackets = (ulong)live.DropPackets;
            reply.DropBytes = (ulong)live.DropBytes;
        }
        return reply;
    }

    public static RuleAction ZeroAction() => new() { Qid = 0, Vid = 0, MeterId = 0 };

    public static MaskRuleKey ZeroKey() => new()
    {
        KeyIndex = 0, Dmac = ByteString.Empty, Smac = ByteString.Empty, DmacMask = 0, SmacMask = 0, Dl4Port = 0, Dl4PortMask = 0, Sl4Port = 0, Sl4PortMask = 0,
        Vlan = 0, VlanMask = 0, Vid = 0, VidMask = 0, IpType = "", Ipprotocol = 0, IpprotocolMask = 0,
    };

    /// <summary>A stored rule as replies carry it: every field of the key and action set, zeros included, and its hits.</summary>
    public ClassifierReadResponse Full(ClassifierReadResponse r)
    {
        var key = ZeroKey();
        key.MergeFrom(r.MaskRuleKey);
        var action = ZeroAction();
        action.MergeFrom(r.Action);
        var (packets, bytes) = Hits(r);
        return new ClassifierReadResponse { Status = 0, MaskRuleKey = key, Action = action, HitPackets = packets, HitBytes = bytes };
    }

    /// <summary>A stored rule's hits, from its compiled rule.</summary>
    private (ulong Packets, ulong Bytes) Hits(ClassifierReadResponse r) =>
        programmer.Compiled(r) is { } live ? ((ulong)live.HitPackets, (ulong)live.HitBytes) : (0, 0);

    /// <summary>The switch's counters of a host vport (<paramref name="vid"/> ≤ 0xFFFF) or a SoC port, into <paramref name="reply"/>.</summary>
    public void PortCounters(GetPortStatsResponse reply, uint vid)
    {
        DpuPortCounters? c = vid <= 0xFFFF ? _device.Switch.HostCounters(vid) : _device.Switch.SocCounters((int)(vid - DpuAgent.SocBase));
        if (c is not null)
        {
            reply.RxPackets = (ulong)c.RxPacketsCount;
            reply.RxBytes = (ulong)c.RxBytesCount;
            reply.RxDrop = (ulong)c.RxDropCount;
            reply.RxError = (ulong)c.RxErrorCount;
            reply.TxPackets = (ulong)c.TxPacketsCount;
            reply.TxBytes = (ulong)c.TxBytesCount;
            reply.TxDrop = (ulong)c.TxDropCount;
            // a bad transmit descriptor is completed by the NIC without reaching the switch: it counts it
            reply.TxError = (ulong)c.TxErrorCount + (ulong)(vid <= 0xFFFF ? (_device.ElasticNic(vid)?.Model as VirtioNetDevice)?.Stats.TxErrorsCount ?? 0 : 0);
        }
    }

    /// <summary>Link as the optical port's wire says (its carrier).</summary>
    public bool LinkUp(uint portId) => _device.Switch.LinkUp((int)portId);

    /// <summary>The optical port's counters, into <paramref name="reply"/>.</summary>
    public void OpticalCounters(EthMacGetStatsResponse reply, uint portId)
    {
        DpuOpticalCounters c = _device.Switch.OpticalCounters((int)portId);
        reply.Ipackets = (ulong)c.IPacketsCount;
        reply.Ibytes = (ulong)c.IBytesCount;
        reply.Imissed = (ulong)c.IMissedCount;
        reply.Ierrors = (ulong)c.IErrorsCount;
        reply.Opackets = (ulong)c.OPacketsCount;
        reply.Obytes = (ulong)c.OBytesCount;
        reply.Oerrors = (ulong)c.OErrorsCount;
        reply.QIpackets.AddRange(c.QIPacketsCounts.Select(v => (ulong)v));
        reply.QIbytes.AddRange(c.QIBytesCounts.Select(v => (ulong)v));
        reply.QOpackets.AddRange(c.QOPacketsCounts.Select(v => (ulong)v));
        reply.QObytes.AddRange(c.QOBytesCounts.Select(v => (ulong)v));
        reply.QErrors.AddRange(c.QErrorsCounts.Select(v => (ulong)v));
    }

    /// <summary>The bond member the switch is using now (negative: none).</summary>
    public int ActiveMember() => _device.Switch.ActiveMember();
}
