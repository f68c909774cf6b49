namespace NicScript.Driver.Devices.Dpu;

/// <summary>
/// The classifier's lookup structure, built once per committed rule set: tuple-space search (as Open vSwitch's
/// classifier does). Rules with the same masks form a group; a group is a hash table from the masked field values to
/// the rule with the smallest key_index among those with these values. A lookup masks the frame once per group and
/// probes its table; groups are visited in order of their smallest key_index and the walk stops as soon as no later
/// group can beat the best match, so the rule with the smallest matching key_index wins, exactly as a scan in key
/// order would decide (reference/dpu.md §5.6). 256 rules of one shape cost one probe instead of 256 comparisons.
/// </summary>
internal sealed class DpuClassifier
{
    private readonly Group[] _groups;

    /// <param name="rules">In ascending key_index; a result is an index into this array.</param>
    public DpuClassifier(DpuRule[] rules)
    {
        var groups = new Dictionary<Masks, Group>();
        for (int i = 0; i < rules.Length; i++)
        {
            DpuKey k = rules[i].Key;
            var masks = new Masks(k.DmacMask, k.SmacMask, (uint)k.VlanMask, (uint)k.VidMask, k.IpType, W(k.DipMask, 0), W(k.DipMask, 1), W(k.DipMask, 2),
                W(k.DipMask, 3), W(k.SipMask, 0), W(k.SipMask, 1), W(k.SipMask, 2), W(k.SipMask, 3), k.ProtocolMask, k.DportMask, k.SportMask);
            if (!groups.TryGetValue(masks, out Group? g)) groups[masks] = g = new Group(masks, i);
            var values = new Values(k.Dmac, k.Smac, (uint)k.Vlan, (uint)k.Vid, W(k.Dip, 0), W(k.Dip, 1), W(k.Dip, 2), W(k.Dip, 3), W(k.Sip, 0), W(k.Sip, 1),
                W(k.Sip, 2), W(k.Sip, 3), k.Protocol, k.Dport, k.Sport);
            g.Table.TryAdd(values, i); // rules come in key order: the first with these values is the smallest index
        }
        _groups = groups.Values.OrderBy(g => g.First).ToArray();
    }

    private static uint W(uint[] a, int i) => i < a.Length ? a[i] : 0;

    /// <summary>The index of the matching rule with the smallest key_index, or −1.</summary>
    public int Lookup(in FrameFields f, int ingressVid)
    {
        int best = int.MaxValue;
        foreach (Group g in _groups)
        {
            if (g.First >= best) break; // every later group starts at a larger index
            Masks m = g.Masks;
            if (m.IpType != 0 && f.IpType != m.IpType) continue;
            bool ports = m.DportMask != 0 || m.SportMask != 0;
            if (ports && !f.HasPorts) continue;
            var probe = new Values(f.Dmac & m.DmacMask, f.Smac & m.SmacMask, (uint)f.Vlan & m.VlanMask, (uint)ingressVid & m.VidMask,
                f.Dip[0] & m.D0, f.Dip[1] & m.D1, f.Dip[2] & m.D2, f.Dip[3] & m.D3, f.Sip[0] & m.S0, f.Sip[1] & m.S1, f.Sip[2] & m.S2, f.Sip[3] & m.S3,
                f.Protocol & m.ProtocolMask, ports ? f.Dport & m.DportMask : 0, ports ? f.Sport & m.SportMask : 0);
            if (g.Table.TryGetValue(probe, out int index) && index < best) best = index;
        }
        return best == int.MaxValue ? -1 : best;
    }

    private sealed class Group(Masks masks, int first)
    {
        public readonly Masks Masks = masks;
        public readonly int First = first;
        public readonly Dictionary<Values, int> Table = new();
    }

    private readonly record struct Masks(ulong DmacMask, ulong SmacMask, uint VlanMask, uint VidMask, int IpType, uint D0, uint D1, uint D2, uint D3,
        uint S0, uint S1, uint S2, uint S3, int ProtocolMask, int DportMask, int SportMask);

    private readonly record struct Values(ulong Dmac, ulong Smac, uint Vlan, uint Vid, uint D0, uint D1, uint D2, uint D3, uint S0, uint S1, uint S2,
        uint S3, int Protocol, int Dport, int Sport)
    {
        public override int GetHashCode()
        {
            ulong h = Dmac * 0x9E3779B97F4A7C15 ^ Smac * 0xC2B2AE3D27D4EB4F;
            h ^= ((ulong)Vlan << 32 | Vid) * 0x165667B19E3779F9;
            h ^= ((ulong)D0 << 32 | D1) * 0x27D4EB2F165667C5 ^ ((ulong)D2 << 32 | D3) * 0x94D049BB133111EB;
            h ^= ((ulong)S0 << 32 | S1) * 0xBF58476D1CE4E5B9 ^ ((ulong)S2 << 32 | S3) * 0x9E3779B97F4A7C15;
            h ^= ((ulong)(uint)Protocol << 40 | (ulong)(uint)Dport << 20 | (uint)Sport) * 0xC2B2AE3D27D4EB4F;
            return (int)(h ^ h >> 29 ^ h >> 47);
        }
    }
}
