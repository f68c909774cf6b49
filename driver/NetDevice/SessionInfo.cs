using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary><c>SessionInfo</c>: every field nullable so "missing" is expressible (reference §8.2, ND-04).</summary>
public sealed class SessionInfo
{
    private static readonly string[] Known = ["descriptors", "data", "descriptorVersion", "descriptorLength", "descriptorCount", "options"];

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

    /// <summary>From a script's object; a property that is missing (or null) stays missing.</summary>
    public static SessionInfo From(IDictionary<string, object?> d)
    {
        const string where = "OpenSession";
        ScriptArgs.RejectUnknown(d, Known, where);
        return new SessionInfo
        {
            Descriptors = Region(d, "descriptors"),
            Data = Region(d, "data"),
            DescriptorVersion = (byte?)ScriptArgs.Integer(d, "descriptorVersion", 0, byte.MaxValue, where),
            DescriptorLength = (byte?)ScriptArgs.Integer(d, "descriptorLength", 0, byte.MaxValue, where),
            DescriptorCount = (ushort?)ScriptArgs.Integer(d, "descriptorCount", 0, ushort.MaxValue, where),
            Options = (SessionFlags?)ScriptArgs.Integer(d, "options", 0, ushort.MaxValue, where),
        };
    }

    private static IDmaRegionSource? Region(IDictionary<string, object?> d, string name) =>
        !d.TryGetValue(name, out object? v) || v is null ? null
        : v as IDmaRegionSource ?? throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"OpenSession: {name} must be a DMA region (dma.alloc), got {v}");
}
