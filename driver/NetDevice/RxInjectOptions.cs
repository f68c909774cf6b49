namespace NicScript.Driver.NetDevice;

/// <summary>How <see cref="NicEmulator.InjectRx(byte, byte[], RxInjectOptions?)"/> labels an injected frame (Ethernet, no flags by default).</summary>
public sealed class RxInjectOptions
{
    [ScriptApi]
    public RxInjectOptions()
    {
    }

    [ScriptApi] public FrameType FrameType { get; set; } = FrameType.ETHERNET;
    [ScriptApi] public RxFlags Flags { get; set; }
}
