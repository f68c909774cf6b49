namespace NicScript.Host.Capabilities;

/// <summary>The <c>ipc</c> global: serve a named channel (<c>svc://name</c>) and send messages to one.</summary>
/// <remarks>
/// Message channels are open to every V-Node (they are how V-Nodes exist together); a DMA buffer crosses only
/// with <c>CAP_MEM_SHARE</c> (see <see cref="ShareHandle"/>). Delivery is in order, on the server's loop.
/// </remarks>
public sealed class IpcHandle
{
    private readonly VNodeContext _ctx;
    private readonly IpcRouter _router;

    public IpcHandle(VNodeContext ctx, IpcRouter router)
    {
        _ctx = ctx;
        _router = router;
    }

    /// <summary>Channels served on this machine now.</summary>
    [ScriptApi] public string[] Channels => _router.Channels.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Serves <paramref name="channel"/>: every message sent to it calls <paramref name="handler"/> on this V-Node's loop.</summary>
    [ScriptApi]
    public void Serve(string channel, Action<IpcMessage> handler)
    {
        Validate(channel);
        if (!_router.TryServe(channel, _ctx, handler))
            throw new ScriptCallException($"ipc.serve: {channel} is already served");
        _ctx.KeepAlive(+1);
    }

    /// <summary>Stops serving <paramref name="channel"/>.</summary>
    [ScriptApi]
    public void Close(string channel)
    {
        if (_router.Stop(channel, _ctx)) _ctx.KeepAlive(-1);
    }

    /// <summary>Sends a message; false when the server's queue is full (the message is dropped and counted).</summary>
    [ScriptApi]
    public bool Send(string channel, string type, string? body = null)
    {
        Validate(channel);
        if (!_router.TryGetServer(channel, out _)) throw new ScriptCallException($"ipc.send: nobody serves {channel}");
        return _router.TryDeliver(new IpcMessage(channel, _ctx.Name, type, body));
    }

    private static void Validate(string channel)
    {
        if (!IpcRouter.IsValidName(channel))
            throw new ScriptCallException($"ipc: '{channel}' is not a channel name (expected svc://name, lowercase letters, digits, '-' and '.')");
    }
}
