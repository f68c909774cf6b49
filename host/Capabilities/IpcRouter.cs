using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace NicScript.Host.Capabilities;

/// <summary>The named IPC channels of one machine (<c>svc://name</c>): who serves each, and delivery to its loop.</summary>
public sealed partial class IpcRouter
{
    private readonly ConcurrentDictionary<string, IpcMailbox> _channels = new(StringComparer.Ordinal);
    private long _dropped;

    /// <summary>Messages refused because the server's loop was full or stopped.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public IReadOnlyCollection<string> Channels => _channels.Keys.ToArray();

    public static bool IsValidName(string name) => ChannelName().IsMatch(name);

    internal bool TryServe(string name, VNodeContext server, Action<IpcMessage>? handler, Action<IpcBurst>? burstHandler) =>
        _channels.TryAdd(name, new IpcMailbox(name, server, handler, burstHandler));

    internal bool TryGetServer(string name, out VNodeContext server)
    {
        bool found = _channels.TryGetValue(name, out IpcMailbox? mailbox);
        server = mailbox?.Server!;
        return found;
    }

    internal bool TryGetMailbox(string name, out IpcMailbox mailbox) => _channels.TryGetValue(name, out mailbox!);

    internal bool Stop(string name, VNodeContext server) =>
        _channels.TryGetValue(name, out IpcMailbox? m) && ReferenceEquals(m.Server, server) && _channels.TryRemove(name, out _);

    /// <summary>Removes every channel <paramref name="server"/> serves (it stopped).</summary>
    public void StopAll(VNodeContext server)
    {
        foreach (var (name, mailbox) in _channels)
            if (ReferenceEquals(mailbox.Server, server)) _channels.TryRemove(name, out _);
    }

    /// <summary>Queues one message for <paramref name="mailbox"/>'s server; false (counted) when its queue is full or it stopped.</summary>
    internal bool TryDeliver(IpcMailbox mailbox, in IpcMailbox.Envelope message)
    {
        if (mailbox.TryPost(message)) return true;
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Queues what <paramref name="source"/> yields for <paramref name="mailbox"/>'s server, in order; returns how many went.</summary>
    internal int TryDeliverAll<TSource>(IpcMailbox mailbox, ref TSource source, int wanted) where TSource : struct, IpcMailbox.ISource
    {
        int n = mailbox.TryPostAll(ref source);
        if (n < wanted) Interlocked.Add(ref _dropped, wanted - n);
        return n;
    }

    [GeneratedRegex("^svc://[a-z0-9][a-z0-9.-]{0,62}$")]
    private static partial Regex ChannelName();
}
