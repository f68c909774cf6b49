using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace NicScript.Host.Capabilities;

/// <summary>The named IPC channels of one machine (<c>svc://name</c>): who serves each, and delivery to its loop.</summary>
public sealed partial class IpcRouter
{
    private readonly ConcurrentDictionary<string, (VNodeContext Server, Action<IpcMessage> Handler)> _channels = new(StringComparer.Ordinal);
    private long _dropped;

    /// <summary>Messages refused because the server's loop was full or stopped.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public IReadOnlyCollection<string> Channels => _channels.Keys.ToArray();

    public static bool IsValidName(string name) => ChannelName().IsMatch(name);

    internal bool TryServe(string name, VNodeContext server, Action<IpcMessage> handler) => _channels.TryAdd(name, (server, handler));

    internal bool TryGetServer(string name, out VNodeContext server)
    {
        bool found = _channels.TryGetValue(name, out var entry);
        server = entry.Server;
        return found;
    }

    internal bool Stop(string name, VNodeContext server) =>
        _channels.TryGetValue(name, out var e) && ReferenceEquals(e.Server, server) && _channels.TryRemove(name, out _);

    /// <summary>Removes every channel <paramref name="server"/> serves (it stopped).</summary>
    public void StopAll(VNodeContext server)
    {
        foreach (var (name, entry) in _channels)
            if (ReferenceEquals(entry.Server, server)) _channels.TryRemove(name, out _);
    }

    internal bool TryDeliver(IpcMessage message)
    {
        if (!_channels.TryGetValue(message.Channel, out var entry)) return false;
        if (entry.Server.Dispatcher?.Dispatch(entry.Handler, message) == true) return true;
        Interlocked.Increment(ref _dropped);
        return false;
    }

    [GeneratedRegex("^svc://[a-z0-9][a-z0-9.-]{0,62}$")]
    private static partial Regex ChannelName();
}
