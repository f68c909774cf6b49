namespace NicScript.Driver.Wire;

/// <summary>Every frame a device sends comes back to it.</summary>
internal sealed class LoopbackLink : Link
{
    public LoopbackLink(string name) : base(name) { }

    public override int MaxPorts => 1;

    public override bool ReturnsToSender => true;

    protected internal override void Route(WirePort from, ReadOnlySpan<byte> frame) => from.Deliver(frame);

    protected internal override void RouteBurst(WirePort from, FrameBatch frames) => from.DeliverBurst(frames);
}
