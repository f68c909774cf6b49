namespace NicScript.Host.Capabilities;

/// <summary>One refused call: who asked, for which capability, for what, and from where in the script.</summary>
/// <param name="Capability">The manifest spelling of the missing capability, e.g. <c>CAP_IRQ_REGISTER</c>.</param>
/// <param name="Requested">What was asked for, e.g. <c>5</c> or <c>0000:00:02.0</c>; empty for bare capabilities.</param>
public sealed record CapabilityDenial(DateTimeOffset Time, string VNode, string Capability, string Requested, SourceSpan At, string Reason)
{
    /// <summary>The one line a script or user sees, e.g. <c>CAP_IRQ_REGISTER 5 not granted to net-bridge</c>.</summary>
    public override string ToString() => Reason;
}
