namespace NicScript.Driver.NetDevice;

/// <summary>What <see cref="NicEmulator.SetStatus(byte, PortStatusUpdate)"/> changes: a null field keeps the port's value.</summary>
public sealed class PortStatusUpdate
{
    /// <summary>Nothing changed; scripts fill it with an object initializer (C#) or a plain object (JavaScript).</summary>
    [ScriptApi]
    public PortStatusUpdate()
    {
    }

    [ScriptApi] public bool? Online { get; set; }
    [ScriptApi] public uint? Mtu { get; set; }
}
