using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary><c>SessionInfo</c>: every field nullable so "missing" is expressible (reference §8.2, ND-04).</summary>
public sealed class SessionInfo
{
    /// <summary>An empty info (every field missing); C# scripts fill it with an object initializer.</summary>
    [ScriptApi]
    public SessionInfo()
    {
    }

    [ScriptApi] public IDmaRegionSource? Descriptors { get; set; }
    [ScriptApi] public IDmaRegionSource? Data { get; set; }
    [ScriptApi] public byte? DescriptorVersion { get; set; }
    [ScriptApi] public byte? DescriptorLength { get; set; }
    [ScriptApi] public ushort? DescriptorCount { get; set; }
    [ScriptApi] public SessionFlags? Options { get; set; }
}
