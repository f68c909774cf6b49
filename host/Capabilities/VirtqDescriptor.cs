namespace NicScript.Host.Capabilities;

/// <summary>One split-virtqueue descriptor as the driver wrote it (virtio 1.x §2.7.5), decoded for reading.</summary>
public sealed record VirtqDescriptor(
    [property: ScriptApi] int Index,
    [property: ScriptApi] double Addr,
    [property: ScriptApi] double Len,
    [property: ScriptApi] string Flags,
    [property: ScriptApi] int Next);
