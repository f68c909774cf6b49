namespace NicScript.Driver.VfioUser;

/// <summary>Where an exported function's bus trace goes: what a bus analyser between the guest and the device would show.</summary>
/// <remarks>Called on the server's and the device's threads; implementations serialise and return quickly.</remarks>
public interface IVfioUserTrace
{
    void Record(in VfioUserTraceEvent e);
}
