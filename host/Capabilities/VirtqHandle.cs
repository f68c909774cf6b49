using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Memory;
using NicScript.Driver.Queues;

namespace NicScript.Host.Capabilities;

/// <summary>A raw split virtqueue in the V-Node's DMA memory, for scripts that bring a device up by hand.</summary>
/// <remarks>The driver side only: the script writes the ring addresses into the device's registers itself and rings the
/// doorbell itself; this object lays out the rings, keeps the free list and reads the used ring in order.</remarks>
public sealed class VirtqHandle
{
    private readonly VNodeContext _ctx;
    private readonly SplitVirtqueueDriver _queue;

    internal VirtqHandle(VNodeContext ctx, SplitVirtqueueDriver queue)
    {
        _ctx = ctx;
        _queue = queue;
    }

    [ScriptApi] public int Size => _queue.Size;

    /// <summary>The descriptor table (queue_desc).</summary>
    [ScriptApi] public double DescIova => _queue.DescIova;

    /// <summary>The available ring (queue_driver).</summary>
    [ScriptApi] public double AvailIova => _queue.AvailIova;

    /// <summary>The used ring (queue_device).</summary>
    [ScriptApi] public double UsedIova => _queue.UsedIova;

    [ScriptApi] public int FreeCount => _queue.FreeCount;

    /// <summary>Makes [offset, offset+length) of <paramref name="buffer"/> available as one descriptor; returns its head id, or -1 when the ring is full.</summary>
    [ScriptApi]
    public int Add(DmaBuffer buffer, int offset, int length, bool deviceWritable)
    {
        buffer.Span(offset, length, write: deviceWritable); // ownership and bounds, as the script sees them
        return _queue.TryAdd(buffer.Region.Iova + (ulong)offset, length, deviceWritable, out ushort head) ? head : -1;
    }

    /// <summary>Publishes everything added (avail.idx, release); true when the device asked for a doorbell.</summary>
    [ScriptApi] public bool Publish() => _queue.Publish();

    /// <summary>The next used element as <c>[id, length]</c>, or null when there is none.</summary>
    [ScriptApi] public double[]? GetUsed() => _queue.TryGetUsed(out ushort id, out uint length) ? [id, length] : null;

    /// <summary>Descriptor <paramref name="index"/> as written: address, length, flags (NEXT, WRITE, INDIRECT) and next.</summary>
    [ScriptApi]
    public VirtqDescriptor Desc(int index)
    {
        if (index < 0 || index >= _queue.Size) throw new ScriptCallException($"desc({index}): the queue has {_queue.Size} descriptors");
        var (addr, len, flags, next) = _queue.ReadDesc((ushort)index);
        string names = string.Join("|", new[] { (VirtqLayout.DescFlagNext, "NEXT"), (VirtqLayout.DescFlagWrite, "WRITE"), (VirtqLayout.DescFlagIndirect, "INDIRECT") }
            .Where(f => (flags & f.Item1) != 0).Select(f => f.Item2));
        return new VirtqDescriptor(index, addr, len, names.Length == 0 ? "0" : names, next);
    }

    /// <summary>Used elements waiting.</summary>
    [ScriptApi] public int UsedPending => _queue.UsedPending;

    internal static VirtqHandle Create(VNodeContext ctx, DmaMemory memory, int size, bool eventIdx)
    {
        if (!VirtqLayout.IsValidSize(size)) throw new ScriptCallException($"net.queue({size}): the size must be a power of two, 1..32768");
        DmaError e = SplitVirtqueueDriver.TryCreate(memory, ctx.DmaOwner, size, eventIdx, out SplitVirtqueueDriver q);
        return e == DmaError.None ? new VirtqHandle(ctx, q) : throw new ScriptCallException($"net.queue({size}): {e} (required_mem_mb {ctx.Manifest.Runtime.RequiredMemMb})");
    }
}
