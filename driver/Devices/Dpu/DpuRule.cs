using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Dpu;

/// <summary>A classifier key in canonical form (reference/dpu.md §5.6): each field matches when
/// <c>(frame value AND mask) == value</c>; all masks 0 match everything.</summary>
/// <param name="IpType">0 any frame, 4 IPv4 (0x0800), 6 IPv6 (0x86DD).</param>
/// <param name="Dip">IPv4: one word; IPv6: four, most significant first; empty: any.</param>
public sealed record DpuKey(
    ulong Dmac, ulong DmacMask, ulong Smac, ulong SmacMask, int IpType,
    uint[] Dip, uint[] DipMask, uint[] Sip, uint[] SipMask,
    int Protocol, int ProtocolMask, int Dport, int DportMask, int Sport, int SportMask,
    int Vlan, int VlanMask, int Vid, int VidMask);

/// <summary>One classifier rule as the switch runs it, with its hit counters. The agent makes one per stored rule and
/// keeps it while the rule is unchanged, so an identical rewrite keeps the counters and a changed one starts at 0.</summary>
/// <param name="Vid">Target port id (§5.2): a vport, 0x10000 + SoC port, 0x20000 + optical port (out of its wire), or −1 (drop).</param>
/// <param name="Qid">Target queue (an optical port's transmit queue), −1 for the per-flow hash.</param>
public sealed class DpuRule
{
    // The key flattened into fields (no record, no arrays on the per-frame path): IP words beyond the family's are 0/0.
    private readonly ulong _dmac, _dmacMask, _smac, _smacMask;
    private readonly uint _vlan, _vlanMask, _vid, _vidMask;
    private readonly int _ipType, _protocol, _protocolMask, _dport, _dportMask, _sport, _sportMask;
    private readonly uint _d0, _d1, _d2, _d3, _dm0, _dm1, _dm2, _dm3, _s0, _s1, _s2, _s3, _sm0, _sm1, _sm2, _sm3;
    private long _hitPackets, _hitBytes;

    public DpuRule(int keyIndex, DpuKey key, int vid, int qid, uint? meterId)
    {
        KeyIndex = keyIndex;
        Key = key;
        Vid = vid;
        Qid = qid;
        MeterId = meterId;
        (_dmac, _dmacMask, _smac, _smacMask) = (key.Dmac, key.DmacMask, key.Smac, key.SmacMask);
        (_vlan, _vlanMask, _vid, _vidMask) = ((uint)key.Vlan, (uint)key.VlanMask, (uint)key.Vid, (uint)key.VidMask);
        (_ipType, _protocol, _protocolMask) = (key.IpType, key.Protocol, key.ProtocolMask);
        (_dport, _dportMask, _sport, _sportMask) = (key.Dport, key.DportMask, key.Sport, key.SportMask);
        static uint W(uint[] a, int i) => i < a.Length ? a[i] : 0;
        (_d0, _d1, _d2, _d3) = (W(key.Dip, 0), W(key.Dip, 1), W(key.Dip, 2), W(key.Dip, 3));
        (_dm0, _dm1, _dm2, _dm3) = (W(key.DipMask, 0), W(key.DipMask, 1), W(key.DipMask, 2), W(key.DipMask, 3));
        (_s0, _s1, _s2, _s3) = (W(key.Sip, 0), W(key.Sip, 1), W(key.Sip, 2), W(key.Sip, 3));
        (_sm0, _sm1, _sm2, _sm3) = (W(key.SipMask, 0), W(key.SipMask, 1), W(key.SipMask, 2), W(key.SipMask, 3));
    }

    public int KeyIndex { get; }
    public DpuKey Key { get; }
    public int Vid { get; }
    public int Qid { get; }
    public uint? MeterId { get; }

    public long HitPackets => Volatile.Read(ref _hitPackets);
    public long HitBytes => Volatile.Read(ref _hitBytes);

    /// <summary>Counts a run of frames that hit the rule: atomically, as frames from several cables hit it at once.</summary>
    internal void Hit(long packets, long bytes)
    {
        Interlocked.Add(ref _hitPackets, packets);
        Interlocked.Add(ref _hitBytes, bytes);
    }

    internal bool Matches(in FrameFields f, int ingressVid)
    {
        if ((f.Dmac & _dmacMask) != _dmac || (f.Smac & _smacMask) != _smac) return false;
        if (((uint)f.Vlan & _vlanMask) != _vlan || ((uint)ingressVid & _vidMask) != _vid) return false;
        if (_ipType == 0) return true;
        if (f.IpType != _ipType) return false;
        if ((f.Dip[0] & _dm0) != _d0 || (f.Dip[1] & _dm1) != _d1 || (f.Dip[2] & _dm2) != _d2 || (f.Dip[3] & _dm3) != _d3) return false;
        if ((f.Sip[0] & _sm0) != _s0 || (f.Sip[1] & _sm1) != _s1 || (f.Sip[2] & _sm2) != _s2 || (f.Sip[3] & _sm3) != _s3) return false;
        if ((f.Protocol & _protocolMask) != _protocol) return false;
        if (_dportMask == 0 && _sportMask == 0) return true;
        if (!f.HasPorts) return false;
        return (f.Dport & _dportMask) == _dport && (f.Sport & _sportMask) == _sport;
    }
}

/// <summary>Four 32-bit words of an address (IPv4 uses the first), without an array per frame.</summary>
[System.Runtime.CompilerServices.InlineArray(4)]
internal struct AddressWords
{
    private uint _w0;
}

/// <summary>What the classifier and the hashes look at in a frame, parsed once at ingress.</summary>
internal struct FrameFields
{
    public ulong Dmac, Smac;
    public int EtherType, Vlan, Tags, IpType, Protocol, Dport, Sport;
    public bool HasPorts;
    public AddressWords Dip, Sip;

    public bool IsMulticast => (Dmac & 0x0100_0000_0000UL) != 0; // I/G bit of the first octet (broadcast included)

    /// <summary>Parses up to the L4 ports; false when the frame is shorter than an Ethernet header.</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out FrameFields f)
    {
        f = default;
        if (frame.Length < 14) return false;
        f.Dmac = BinaryPrimitives.ReadUInt64BigEndian(frame) >> 16; // two loads for the 48-bit addresses, not 12 byte steps
        f.Smac = BinaryPrimitives.ReadUInt64BigEndian(frame[4..]) & 0xFFFF_FFFF_FFFF;
        int at = 12;
        int type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
        while ((type == 0x8100 || type == 0x88A8) && frame.Length >= at + 6)
        {
            if (f.Tags == 0) f.Vlan = BinaryPrimitives.ReadUInt16BigEndian(frame[(at + 2)..]) & 0xFFF; // the outer tag
            f.Tags++;
            at += 4;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[at..]);
        }
        f.EtherType = type;
        ReadOnlySpan<byte> l3 = frame[(at + 2)..];
        int l4 = -1;
        if (f.Tags <= 1 && type == 0x0800 && l3.Length >= 20 && l3[0] >> 4 == 4)
        {
            f.IpType = 4;
            f.Protocol = l3[9];
            f.Sip[0] = BinaryPrimitives.ReadUInt32BigEndian(l3[12..]);
            f.Dip[0] = BinaryPrimitives.ReadUInt32BigEndian(l3[16..]);
            bool first = (BinaryPrimitives.ReadUInt16BigEndian(l3[6..]) & 0x1FFF) == 0; // ports only in a first fragment
            if (first) l4 = (l3[0] & 0xF) * 4;
        }
        else if (f.Tags <= 1 && type == 0x86DD && l3.Length >= 40 && l3[0] >> 4 == 6)
        {
            f.IpType = 6;
            f.Protocol = l3[6];
            for (int i = 0; i < 4; i++)
            {
                f.Sip[i] = BinaryPrimitives.ReadUInt32BigEndian(l3[(8 + 4 * i)..]);
                f.Dip[i] = BinaryPrimitives.ReadUInt32BigEndian(l3[(24 + 4 * i)..]);
            }
            l4 = 40;
        }
        if (l4 >= 0 && f.Protocol is 6 or 17 or 132 && l3.Length >= l4 + 4)
        {
            f.HasPorts = true;
            f.Sport = BinaryPrimitives.ReadUInt16BigEndian(l3[l4..]);
            f.Dport = BinaryPrimitives.ReadUInt16BigEndian(l3[(l4 + 2)..]);
        }
        return true;
    }

    /// <summary>True when the classifier reads the same fields in both (for one ingress port the lookup gives the same rule).</summary>
    public readonly bool SameKey(in FrameFields o) =>
        Dmac == o.Dmac && Smac == o.Smac && Vlan == o.Vlan && SameFlow(o);

    /// <summary>True when <see cref="FlowHash"/> reads the same fields in both (a burst's frames of one flow hash once).</summary>
    public readonly bool SameFlow(in FrameFields o) =>
        IpType == o.IpType && Protocol == o.Protocol && HasPorts == o.HasPorts && Sport == o.Sport && Dport == o.Dport &&
        Sip[0] == o.Sip[0] && Dip[0] == o.Dip[0] && (IpType != 6 || (Sip[1] == o.Sip[1] && Sip[2] == o.Sip[2] && Sip[3] == o.Sip[3] &&
        Dip[1] == o.Dip[1] && Dip[2] == o.Dip[2] && Dip[3] == o.Dip[3]));

    /// <summary>A per-flow hash: addresses, protocol and ports for IP, 0 for anything else (so non-IP goes to queue 0).</summary>
    public readonly uint FlowHash()
    {
        if (IpType == 0) return 0;
        uint h = 2166136261;
        for (int i = 0; i < (IpType == 4 ? 1 : 4); i++) h = Mix(Mix(h, Sip[i]), Dip[i]);
        h = Mix(h, (uint)Protocol);
        if (HasPorts) h = Mix(h, (uint)(Sport << 16 | Dport));
        return h ^ h >> 16;
    }

    private static uint Mix(uint h, uint v)
    {
        for (int i = 0; i < 4; i++, v >>= 8) h = (h ^ (v & 0xFF)) * 16777619; // FNV-1a over the word's bytes
        return h;
    }

    /// <summary>Linux bonding's transmit hashes (xmit_hash_policy): layer2, layer3+4, layer2+3 (the encap ones read the
    /// outer headers here, which is what they see without a tunnel), vlan+srcmac.</summary>
    public readonly uint BondHash(int policy)
    {
        uint l2 = (uint)(Dmac ^ Smac) ^ (uint)EtherType;
        uint l3 = IpType == 0 ? 0 : Sip[0] ^ Dip[0] ^ Sip[3] ^ Dip[3];
        uint l4 = HasPorts ? (uint)(Sport ^ Dport) : 0;
        uint h = policy switch
        {
            1 or 4 => IpType == 0 ? l2 : l3 ^ l4,
            2 or 3 => l2 ^ l3,
            5 => (uint)Vlan ^ (uint)(Smac >> 24) ^ (uint)Smac,
            _ => l2,
        };
        h ^= h >> 16;
        return h ^ h >> 8;
    }
}
