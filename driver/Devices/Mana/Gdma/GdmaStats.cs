namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>What the GDMA transport counted: HWC traffic and every doorbell or event it refused; the client device
/// reports them beside its own counters.</summary>
internal sealed class GdmaStats
{
    internal long UnknownDoorbells, BadDoorbells, HwcRequests, HwcErrors, EqOverflows;
    internal Memory.IommuDomain? Domain;
}
