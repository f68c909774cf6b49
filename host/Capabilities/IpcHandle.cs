using NicScript.Driver.Memory;

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
    /// <remarks>Messages that arrive together wake the loop once; the handler still gets one call per message, in order.</remarks>
    [ScriptApi]
    public void Serve(string channel, Action<IpcMessage> handler) => Serve(channel, handler, null);

    /// <summary>Serves <paramref name="channel"/> a burst at a time: <paramref name="handler"/> gets one call for the messages
    /// that arrived since its last call (at most 256), in order, as an <see cref="IpcBurst"/> valid during that call.</summary>
    [ScriptApi]
    public void ServeBurst(string channel, Action<IpcBurst> handler) => Serve(channel, null, handler);

    private void Serve(string channel, Action<IpcMessage>? handler, Action<IpcBurst>? burstHandler)
    {
        Validate(channel);
        if (!_router.TryServe(channel, _ctx, handler, burstHandler))
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
        IpcMailbox mailbox = Mailbox(channel, "ipc.send");
        var message = new IpcMailbox.Envelope { From = _ctx.Name, Type = type, Body = body };
        if (frame is null) return _router.TryDeliver(mailbox, message);

        VNodeContext server = FrameServer(mailbox, "ipc.send");
        frame.Frame(frame.Length); // held by us? (a denial otherwise)
        FramePool pool = frame.Pool;
        DmaError e = pool.TransferSlot(frame.Slot, _ctx.DmaOwner, server.DmaOwner);
        if (e != DmaError.None) throw new ScriptCallException($"ipc.send: {frame}: {e}");
        ReclaimOnStop(server, pool);
        message.Pool = pool;
        message.Slot = frame.Slot;
        message.Length = frame.Length;
        message.Generation = pool.Generation(frame.Slot);
        if (_router.TryDeliver(mailbox, message)) return true;
        pool.TransferSlot(frame.Slot, server.DmaOwner, _ctx.DmaOwner); // not delivered: the frame stays ours
        return false;
    }

    /// <summary>Sends each frame of <paramref name="burst"/> (its first <c>count</c>) as one message of <paramref name="type"/>
    /// carrying it, in order, in one call: the same messages as <c>send</c> with <c>burst.take(i)</c>, one wake-up for all.
    /// Returns how many went; the rest stay in the burst where they were (the next <c>rxPoll</c> gives them back to the device).</summary>
    [ScriptApi]
    public int SendFrames(string channel, string type, FrameBurstHandle burst)
    {
        IpcMailbox mailbox = Mailbox(channel, "ipc.sendFrames");
        VNodeContext server = FrameServer(mailbox, "ipc.sendFrames");
        FrameBurst frames = burst.Burst;
        if (frames.Pool.Region.IsFreed) throw new ScriptCallException("ipc.sendFrames: the burst's NIC was brought down: its buffers are gone");
        ReclaimOnStop(server, frames.Pool);
        var source = new BurstFrames(_ctx, type, frames);
        int sent = _router.TryDeliverAll(mailbox, ref source, frames.Count);
        if (source.Failed is { } failed) throw new ScriptCallException($"ipc.sendFrames: frame {sent}: {failed}");
        return sent;
    }

    /// <summary>Sends on every frame <paramref name="burst"/> (a <c>serveBurst</c> handler's) still holds, as one message of
    /// <paramref name="type"/> each, in order, in one call — typically replies written into the requests' own buffers.
    /// Returns how many went; frames that did not go return to their NIC's pool when the handler returns.</summary>
    [ScriptApi]
    public int Forward(string channel, string type, IpcBurst burst)
    {
        IpcMailbox mailbox = Mailbox(channel, "ipc.forward");
        VNodeContext server = FrameServer(mailbox, "ipc.forward");
        if (!ReferenceEquals(burst.Holder, _ctx)) throw new ScriptCallException("ipc.forward: the burst is another V-Node's");
        int held = burst.HeldFrames();
        if (held == 0) return 0;
        var source = new ForwardedFrames(_ctx, type, burst);
        int sent = _router.TryDeliverAll(mailbox, ref source, held);
        if (source.Pool is { } pool) ReclaimOnStop(server, pool);
        if (source.Failed is { } failed) throw new ScriptCallException($"ipc.forward: {failed}");
        return sent;
    }

    private IpcMailbox Mailbox(string channel, string call)
    {
        Validate(channel);
        return _router.TryGetMailbox(channel, out IpcMailbox mailbox) ? mailbox : throw new ScriptCallException($"{call}: nobody serves {channel}");
    }

    /// <summary>The server a frame can go to: <c>CAP_MEM_SHARE</c> is needed, and a V-Node does not send frames to itself.</summary>
    private VNodeContext FrameServer(IpcMailbox mailbox, string call)
    {
        _ctx.Require(Manifests.CapabilityKind.MemShare);
        if (ReferenceEquals(mailbox.Server, _ctx)) throw new ScriptCallException($"{call}: {mailbox.Channel} is served by {_ctx.Name} itself; keep the frame");
        return mailbox.Server;
    }

    /// <summary>If the receiver stops holding frames of <paramref name="pool"/>, they go home; registered once per pair (the last
    /// pair is remembered, so a data path registers nothing per message).</summary>
    private void ReclaimOnStop(VNodeContext server, FramePool pool)
    {
        if (ReferenceEquals(_reclaimServer, server) && ReferenceEquals(_reclaimPool, pool)) return;
        server.OnReleaseOnce(pool, () => pool.Reclaim(server.DmaOwner));
        (_reclaimServer, _reclaimPool) = (server, pool);
    }

    private VNodeContext? _reclaimServer;
    private FramePool? _reclaimPool;

    /// <summary>A burst's frames, from position 0 on, each moved to the server as it is posted; its position gets a fresh buffer.</summary>
    private struct BurstFrames(VNodeContext sender, string type, FrameBurst burst) : IpcMailbox.ISource
    {
        private int _i;

        public DmaError? Failed { get; private set; }

        public bool TryNext(VNodeContext server, out IpcMailbox.Envelope envelope)
        {
            envelope = default;
            if (_i >= burst.Count || Failed is not null) return false;
            int slot = burst.Slot(_i);
            DmaError e = slot < 0 ? DmaError.OutOfBounds : burst.Pool.TransferSlot(slot, sender.DmaOwner, server.DmaOwner);
            if (e != DmaError.None)
            {
                Failed = e;
                return false;
            }
            envelope = new IpcMailbox.Envelope
            {
                From = sender.Name, Type = type, Pool = burst.Pool, Slot = slot, Length = burst.Length(_i), Generation = burst.Pool.Generation(slot),
            };
            burst.Take(_i++);
            return true;
        }
    }

    /// <summary>The frames an <see cref="IpcBurst"/> still holds, in order, each moved to the server as it is posted.</summary>
    private struct ForwardedFrames(VNodeContext sender, string type, IpcBurst burst) : IpcMailbox.ISource
    {
        private int _i;

        public FramePool? Pool { get; private set; }

        public string? Failed { get; private set; }

        public bool TryNext(VNodeContext server, out IpcMailbox.Envelope envelope)
        {
            envelope = default;
            for (; _i < burst.Count && Failed is null; _i++)
            {
                if (!burst.TryMove(_i, out FramePool pool, out int slot, out int length)) continue;
                DmaError e = pool.TransferSlot(slot, sender.DmaOwner, server.DmaOwner);
                if (e != DmaError.None)
                {
                    Failed = $"frame#{slot}: {e}";
                    return false;
                }
                Pool = pool;
                envelope = new IpcMailbox.Envelope { From = sender.Name, Type = type, Pool = pool, Slot = slot, Length = length, Generation = pool.Generation(slot) };
                _i++;
                return true;
            }
            return false;
        }
    }

    private static void Validate(string channel)
    {
        if (!IpcRouter.IsValidName(channel))
            throw new ScriptCallException($"ipc: '{channel}' is not a channel name (expected svc://name, lowercase letters, digits, '-' and '.')");
    }
}
