using System.Collections.Immutable;

namespace NicScript.Host.Capabilities;

/// <summary>One V-Node's handles, as the broker made them: the core ones by name, the device families' in <see cref="Families"/>.</summary>
public sealed record VNodeHandles(VNodeInfo VNode, PciHandle Pci, IrqHandle Irq, DmaHandle Dma, ShareHandle Share,
    IpcHandle Ipc, LogHandle Log, MetricsHandle Metrics, NetHandle Net)
{
    /// <summary>The device families' handles (<c>gdma</c>, <c>rdma</c>, <c>dpu</c>, <c>blk</c>…), in
    /// <see cref="NicScript.Host.Families.DeviceFamilies.Handles"/> order; each checks its own grant on every call.</summary>
    public required ImmutableArray<object> Families { get; init; }

    /// <summary>The family handle of type <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">No family makes one (its module does not list it).</exception>
    public T Family<T>() where T : class
    {
        foreach (object handle in Families)
            if (handle is T found) return found;
        throw new InvalidOperationException($"no device family makes a {typeof(T).Name}");
    }
}
