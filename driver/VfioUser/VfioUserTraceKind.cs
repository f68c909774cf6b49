namespace NicScript.Driver.VfioUser;

/// <summary>What a guest did to an exported function, or the function to the guest, as a trace line names it.</summary>
public enum VfioUserTraceKind
{
    Connect,
    Disconnect,
    ConfigRead,
    ConfigWrite,
    BarRead,
    BarWrite,
    /// <summary>A BAR write the device model calls a doorbell.</summary>
    Doorbell,
    DmaMap,
    DmaUnmap,
    SetIrqs,
    Interrupt,
    Reset,
    Refused,
}
