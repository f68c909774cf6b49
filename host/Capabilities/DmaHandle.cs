using NicScript.Driver.Memory;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>dma</c> global: page-aligned DMA buffers within the manifest's <c>required_mem_mb</c>, by <c>CAP_DMA_ALLOC</c>.</summary>
public sealed class DmaHandle
{
    private readonly VNodeContext _ctx;
    private readonly DmaMemory _memory;

    public DmaHandle(VNodeContext ctx, DmaMemory memory)
    {
        _ctx = ctx;
        _memory = memory;
    }

    /// <summary>Bytes this V-Node holds now (page-rounded).</summary>
    [ScriptApi] public double UsedBytes => _ctx.DmaOwner.UsedBytes;

    /// <summary>The most it may hold: <c>required_mem_mb</c>.</summary>
    [ScriptApi] public double BudgetBytes => _ctx.DmaOwner.BudgetBytes;

    /// <summary>Allocates a zeroed buffer of <paramref name="bytes"/> bytes.</summary>
    [ScriptApi]
    public DmaBuffer Alloc(int bytes)
    {
        _ctx.Require(CapabilityKind.DmaAlloc);
        DmaError e = _memory.TryAllocate(_ctx.DmaOwner, bytes, out DmaRegion region);
        return e switch
        {
            DmaError.None => new DmaBuffer(_ctx, _memory, region),
            DmaError.BudgetExceeded => throw new ScriptCallException(
                $"dma.alloc({bytes}): {_ctx.Name} holds {_ctx.DmaOwner.UsedBytes} bytes; required_mem_mb {_ctx.Manifest.Runtime.RequiredMemMb} allows {_ctx.DmaOwner.BudgetBytes}"),
            DmaError.BadSize => throw new ScriptCallException($"dma.alloc({bytes}): size must be 1..{DmaMemory.MaxRegionBytes} bytes"),
            _ => throw new ScriptCallException($"dma.alloc({bytes}): {e}"),
        };
    }

    /// <summary>Buffers this V-Node owns now, including those transferred to it.</summary>
    [ScriptApi]
    public DmaBuffer[] Owned() =>
        _memory.Regions.Where(r => ReferenceEquals(r.Owner, _ctx.DmaOwner)).Select(r => new DmaBuffer(_ctx, _memory, r)).ToArray();
}
