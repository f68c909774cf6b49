namespace NicScript.Driver.Pci;

/// <summary>The machine's PCI functions by address; hot-add and hot-remove raise events.</summary>
/// <remarks>Copy-on-write: readers enumerate a snapshot without locking while a function comes or goes.</remarks>
public sealed class PciBus
{
    private readonly object _sync = new();
    private static readonly IComparer<PciAddress> ByAddress = Comparer<PciAddress>.Create((a, b) =>
        (a.Segment, a.Bus, a.Device, a.Function).CompareTo((b.Segment, b.Bus, b.Device, b.Function)));

    private SortedList<PciAddress, PciFunction> _functions = new(ByAddress);

    /// <summary>Functions in address order.</summary>
    public IReadOnlyList<PciFunction> Functions => Volatile.Read(ref _functions).Values.ToArray();

    public event Action<PciFunction>? Added;

    public event Action<PciFunction>? Removed;

    public bool TryGet(PciAddress address, out PciFunction function) =>
        Volatile.Read(ref _functions).TryGetValue(address, out function!);

    /// <summary>Places a function; false when its address is taken.</summary>
    public bool TryAdd(PciFunction function)
    {
        lock (_sync)
        {
            if (_functions.ContainsKey(function.Address)) return false;
            var next = new SortedList<PciAddress, PciFunction>(_functions, ByAddress) { { function.Address, function } };
            Volatile.Write(ref _functions, next);
        }
        Added?.Invoke(function);
        return true;
    }

    /// <summary>Hot-removes the function at <paramref name="address"/>; its handles fail from now on.</summary>
    public bool TryRemove(PciAddress address, out PciFunction function)
    {
        lock (_sync)
        {
            if (!_functions.TryGetValue(address, out function!)) return false;
            var next = new SortedList<PciAddress, PciFunction>(_functions, ByAddress);
            next.Remove(address);
            function.Removed = true;
            Volatile.Write(ref _functions, next);
        }
        Removed?.Invoke(function);
        return true;
    }
}
