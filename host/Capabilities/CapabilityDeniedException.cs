namespace NicScript.Host.Capabilities;

/// <summary>Thrown into a script when it calls what its manifest does not grant. Audited before it is thrown.</summary>
public sealed class CapabilityDeniedException : UserErrorException
{
    public CapabilityDeniedException(CapabilityDenial denial) : base(denial.Reason) => Denial = denial;

    public CapabilityDenial Denial { get; }
}
