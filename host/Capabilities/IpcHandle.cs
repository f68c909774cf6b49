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
    /// <remarks>A <paramref name="frame"/> goes with it by MemShare transfer (<c>CAP_MEM_SHARE</c>): the sender loses it at once;
    /// if the message cannot be delivered, the frame comes back to the sender.</remarks>
    [ScriptApi]
    public bool Send(string channel, string type, string? body = null, FrameBuffer? frame = null)
    {
        Validate(channel);
        if (!_router.TryGetServer(channel, out VNodeContext server)) throw new ScriptCallException($"ipc.send: nobody serves {channel}");
        if (frame is null) return _router.TryDeliver(new IpcMessage(channel, _ctx.Name, type, body));

        _ctx.Require(Manifests.CapabilityKind.MemShare);
        frame.Frame(frame.Length); // held by us? (a denial otherwise)
        if (ReferenceEquals(server, _ctx)) throw new ScriptCallException($"ipc.send: {channel} is served by {_ctx.Name} itself; keep the frame");
        NicScript.Driver.Memory.DmaError e = frame.Pool.TransferSlot(frame.Slot, _ctx.DmaOwner, server.DmaOwner);
        if (e != NicScript.Driver.Memory.DmaError.None) throw new ScriptCallException($"ipc.send: {frame}: {e}");
        NicScript.Driver.Memory.FramePool pool = frame.Pool;
        server.OnReleaseOnce(pool, () => pool.Reclaim(server.DmaOwner)); // if the receiver stops holding frames, they go home
        var message = new IpcMessage(channel, _ctx.Name, type, body, new FrameBuffer(server, pool, frame.Slot, frame.Length));
        if (_router.TryDeliver(message)) return true;
        frame.Pool.TransferSlot(frame.Slot, server.DmaOwner, _ctx.DmaOwner); // not delivered: the frame stays ours
        return false;
    }

    private static void Validate(string channel)
    {
        if (!IpcRouter.IsValidName(channel))
            throw new ScriptCallException($"ipc: '{channel}' is not a channel name (expected svc://name, lowercase letters, digits, '-' and '.')");
    }
}
