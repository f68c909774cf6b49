using System.Collections.Concurrent;

namespace NicScript.Host.Capabilities;

/// <summary>The V-Nodes running on one machine, by name: MemShare and IPC find their peers here.</summary>
public sealed class VNodeDirectory
{
    private readonly ConcurrentDictionary<string, VNodeContext> _byName = new(StringComparer.Ordinal);

    public bool TryGet(string name, out VNodeContext context) => _byName.TryGetValue(name, out context!);

    public IReadOnlyCollection<string> Names => _byName.Keys.ToArray();

    internal void Add(VNodeContext context)
    {
        if (!_byName.TryAdd(context.Name, context))
            throw new UserErrorException($"{context.Manifest.Path}: a V-Node named '{context.Name}' is already running");
    }

    internal void Remove(VNodeContext context) => _byName.TryRemove(new KeyValuePair<string, VNodeContext>(context.Name, context));
}
