using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace NicScript.Driver.Wire;

/// <summary>A learning Ethernet switch: learns source MACs per port, forwards known unicast, floods the rest.</summary>
internal sealed class SwitchLink : Link
{
    private readonly ConcurrentDictionary<ulong, int> _macTable = new();
    private readonly int _maxPorts;
    private long _flooded;

    public SwitchLink(string name, int ports) : base(name) => _maxPorts = ports;

    public override int MaxPorts => _maxPorts;

    public long Flooded => Interlocked.Read(ref _flooded);

    protected internal override void Route(WirePort from, ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14) return; // not Ethernet: a switch has nothing to forward
        ulong dst = Mac(frame), src = Mac(frame[6..]);
        if ((src >> 40 & 1) == 0) _macTable[src] = from.Index; // learn unicast sources only
        IReadOnlyList<WirePort> ports = Ports;
        if ((dst >> 40 & 1) == 0 && _macTable.TryGetValue(dst, out int to))
        {
            if (to != from.Index) ports[to].Deliver(frame);
            return;
        }
        Interlocked.Increment(ref _flooded);
        foreach (WirePort p in ports)
            if (p.Index != from.Index) p.Deliver(frame);
    }

    private static ulong Mac(ReadOnlySpan<byte> b) => (ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32 | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);
}
