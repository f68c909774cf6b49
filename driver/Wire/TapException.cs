namespace NicScript.Driver.Wire;

/// <summary>A TAP device could not be made: no /dev/net/tun, no permission, a bad name.</summary>
public sealed class TapException : Exception
{
    public TapException(string message) : base(message) { }
}
