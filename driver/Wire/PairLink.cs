namespace NicScript.Driver.Wire;

/// <summary>A cable between two devices.</summary>
internal sealed class PairLink : Link
{
    public PairLink(string name) : base(name) { }

    public override int MaxPorts => 2;

    protected internal override void Route(WirePort from, ReadOnlySpan<byte> frame)
    {
        IReadOnlyList<WirePort> ports = Ports;
        if (ports.Count == 2) ports[1 - from.Index].Deliver(frame);
    }

    protected internal override void RouteBurst(WirePort from, FrameBatch frames)
    {
        IReadOnlyList<WirePort> ports = Ports;
        if (ports.Count == 2) ports[1 - from.Index].DeliverBurst(frames);
    }
}
