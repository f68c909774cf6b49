using NicScript.Driver.Memory;

namespace NicScript.Host.Capabilities;

/// <summary>One served channel's messages on their way to the server's loop: bounded, in order, handled in bursts.</summary>
/// <remarks>
/// Design: senders (any V-Node's loop) append an <see cref="Envelope"/> at the tail under the lock. The message that finds
/// the mailbox idle posts one drain to the server's loop; the ones that follow ride along, so the loop wakes once per burst,
/// not once per message. The drain runs on the server's loop outside the lock: it reads the envelopes from the head to the
/// tail it saw (senders only write past the tail), hands them to the handler — <c>serve</c>: one invocation per message,
/// each under its own budget; <c>serveBurst</c>: one invocation per burst — and then moves the head past them, under the
/// lock. A place is free only once its message is handled, so <see cref="Capacity"/> bounds everything accepted and not yet
/// handled, as the loop's own queue did. The ring is made with the channel: a message costs the channel no allocation.
/// A drain takes at most <see cref="BurstLimit"/> messages and then queues itself again behind what else the loop has
/// (interrupts, timers), so a flooded channel does not starve them.
/// </remarks>
internal sealed class IpcMailbox
{
    public const int Capacity = 4096, BurstLimit = 256;
    private const int Mask = Capacity - 1;
    private static readonly Action<object?> DrainWork = static s => ((IpcMailbox)s!).Drain();

    private readonly Envelope[] _ring = new Envelope[Capacity];
    private readonly object _gate = new();
    private readonly Action<IpcMessage>? _handler;
    private readonly Action<IpcBurst>? _burstHandler;
    private readonly IpcBurst? _burst;
    private long _head, _tail; // both under _gate; the drain reads [head, tail seen) without it
    private bool _scheduled;   // a drain is queued or running (under _gate)

    public IpcMailbox(string channel, VNodeContext server, Action<IpcMessage>? handler, Action<IpcBurst>? burstHandler)
    {
        Channel = channel;
        Server = server;
        _handler = handler;
        _burstHandler = burstHandler;
        if (burstHandler is not null) _burst = new IpcBurst(this);
    }

    public string Channel { get; }

    public VNodeContext Server { get; }

    /// <summary>One queued message: what <see cref="IpcMessage"/> shows, with its frame as pool, slot and the generation the
    /// transfer to the server gave it.</summary>
    internal struct Envelope
    {
        public string From, Type;
        public string? Body;
        public FramePool? Pool;
        public int Slot, Length, Generation;
    }

    /// <summary>Something that yields envelopes to post under the mailbox's lock, moving each frame to the server as it does.</summary>
    internal interface ISource
    {
        /// <summary>The next message to post, its frame (if any) now the server's; false when there is none left.</summary>
        bool TryNext(VNodeContext server, out Envelope envelope);
    }

    /// <summary>Appends one message; false when the mailbox is full or the server's loop takes no more work.</summary>
    public bool TryPost(in Envelope envelope)
    {
        lock (_gate)
        {
            if (_tail - _head >= Capacity || !ScheduleLocked()) return false;
            _ring[_tail & Mask] = envelope;
            _tail++;
        }
        return true;
    }

    /// <summary>Appends the messages <paramref name="source"/> yields, in order, until it has none or the mailbox is full;
    /// returns how many. One lock and at most one wake-up for all of them.</summary>
    public int TryPostAll<TSource>(ref TSource source) where TSource : struct, ISource
    {
        int n = 0;
        lock (_gate)
        {
            if (_tail - _head >= Capacity || !ScheduleLocked()) return 0;
            while (_tail - _head < Capacity && source.TryNext(Server, out Envelope e))
            {
                _ring[_tail & Mask] = e;
                _tail++;
                n++;
            }
        }
        return n;
    }

    /// <summary>Under the lock: makes sure a drain is queued (posting one when the mailbox was idle); false when the loop refuses it.</summary>
    private bool ScheduleLocked()
    {
        if (_scheduled) return true;
        if (Server.Dispatcher?.Post(DrainWork, this) != true) return false;
        _scheduled = true;
        return true;
    }

    internal ref Envelope At(long index) => ref _ring[index & Mask];

    /// <summary>On the server's loop: handles the messages queued now, a burst at a time.</summary>
    private void Drain()
    {
        IScriptDispatcher? dispatcher = Server.Dispatcher;
        while (true)
        {
            long head, end;
            lock (_gate)
            {
                head = _head;
                end = Math.Min(_tail, head + BurstLimit);
                if (head == end || dispatcher is null)
                {
                    _scheduled = false;
                    return;
                }
            }
            bool alive = _burst is not null ? Handle(dispatcher, head, end) : HandleEach(dispatcher, head, end);
            for (long i = head; i < end; i++) _ring[i & Mask] = default;
            lock (_gate)
            {
                _head = end;
                if (!alive || _tail == _head)
                {
                    _scheduled = false; // a failed server refuses the next post, so nothing waits here for it
                    return;
                }
            }
            if (dispatcher.Post(DrainWork, this)) return; // the rest after what else the loop has; if it cannot queue, go on now
        }
    }

    private bool HandleEach(IScriptDispatcher dispatcher, long head, long end)
    {
        for (long i = head; i < end; i++)
        {
            ref Envelope e = ref _ring[i & Mask];
            FrameBuffer? frame = e.Pool is null ? null : new FrameBuffer(Server, e.Pool, e.Slot, e.Length);
            if (!dispatcher.Invoke(_handler!, new IpcMessage(Channel, e.From, e.Type, e.Body, frame))) return false;
        }
        return true;
    }

    private bool Handle(IScriptDispatcher dispatcher, long head, long end)
    {
        _burst!.Open(head, (int)(end - head));
        try { return dispatcher.Invoke(_burstHandler!, _burst); }
        finally { _burst.Close(); }
    }
}
