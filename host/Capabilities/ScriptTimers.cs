using System.Diagnostics;

namespace NicScript.Host.Capabilities;

/// <summary>A V-Node's timers: one queue ordered by due time, served on the V-Node's loop, in order with its interrupts and messages.</summary>
/// <remarks>
/// Design: the timers of one V-Node are entries in one priority queue (due time, then the order they were started in).
/// One host timer — the alarm — is armed for the earliest entry; when it goes off it asks the loop to serve the queue, and
/// the loop runs the earliest due entry (one handler call, one budget), then asks again while more are due. So timers fire
/// in due order whatever the load, a repeating one is never queued twice (a late one is not made up for in a burst: its
/// next due time is one period after the fire it missed, or now), and a throttled V-Node's timers simply wait with it.
/// A fire the loop cannot take (its queue is full) stays in the timer queue and is offered again shortly: it is late,
/// never lost. The host's own timers are the only ones a script gets (the sandbox refuses System.Threading.Timer). A
/// pending one-shot or a repeating timer keeps the V-Node running; all of them stop with the V-Node.
/// </remarks>
internal sealed class ScriptTimers
{
    public const double MinPeriodMs = 1, MaxDelayMs = 24 * 3600 * 1000;

    /// <summary>How soon a fire the loop refused is offered again: 2 ms, doubling while it keeps refusing, up to 100 ms.</summary>
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(2), LastRetry = TimeSpan.FromMilliseconds(100);

    private TimeSpan _retry = FirstRetry;

    private readonly VNodeContext _ctx;
    private readonly object _gate = new();
    private readonly Dictionary<int, Entry> _timers = new();
    private readonly PriorityQueue<Entry, (long Due, long Seq)> _queue = new();
    private readonly Timer _alarm;
    private readonly Action<ScriptTimers> _serve;
    private bool _serving; // a serve is queued on the loop: the alarm does not queue another
    private bool _released;
    private long _seq;
    private int _nextId;

    public ScriptTimers(VNodeContext ctx)
    {
        _ctx = ctx;
        _alarm = new Timer(static s => ((ScriptTimers)s!).Offer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _serve = static t => t.Serve();
        ctx.OnRelease(CancelAll);
    }

    private static long Now => Stopwatch.GetTimestamp();

    private static long Ticks(double ms) => (long)Math.Ceiling(ms * Stopwatch.Frequency / 1000);

    public int Start(double delayMs, Action handler, bool repeat)
    {
        if (!(delayMs >= (repeat ? MinPeriodMs : 0) && delayMs <= MaxDelayMs))
            throw new ScriptCallException($"timer of {delayMs} ms: expected {(repeat ? MinPeriodMs : 0)}..{MaxDelayMs} ms");
        lock (_gate)
        {
            int id = ++_nextId;
            var entry = new Entry(id, handler, repeat ? Ticks(delayMs) : 0) { Due = Now + Ticks(delayMs) };
            _timers[id] = entry;
            _ctx.KeepAlive(+1);
            _queue.Enqueue(entry, (entry.Due, ++_seq));
            ArmLocked();
            return id;
        }
    }

    public bool Cancel(int id)
    {
        lock (_gate)
        {
            if (!_timers.Remove(id, out Entry? e)) return false;
            e.Cancelled = true; // left in the queue; skipped when it comes up
            _ctx.KeepAlive(-1);
            return true;
        }
    }

    /// <summary>The alarm went off (a pool thread): ask the loop to serve the queue, or try again shortly if it cannot take it.</summary>
    private void Offer()
    {
        lock (_gate)
        {
            if (_released || _serving) return;
            _serving = true;
        }
        if (_ctx.Dispatcher?.Dispatch(_serve, this) == true)
        {
            _retry = FirstRetry;
            return;
        }
        lock (_gate)
        {
            _serving = false;
            if (_released) return;
            _alarm.Change(_retry, Timeout.InfiniteTimeSpan); // late, not lost
            _retry = TimeSpan.FromTicks(Math.Min(_retry.Ticks * 2, LastRetry.Ticks));
        }
    }

    /// <summary>On the loop: runs the earliest due timer, then re-arms (or asks the loop again at once if more are due).</summary>
    private void Serve()
    {
        Entry? fire = null;
        lock (_gate)
        {
            _serving = false;
            while (_queue.TryPeek(out Entry? head, out var key) && (head.Cancelled || key.Due <= Now))
            {
                _queue.Dequeue();
                if (head.Cancelled) continue;
                fire = head;
                if (head.Period > 0)
                {
                    head.Due = Math.Max(key.Due + head.Period, Now); // a late tick is not made up for in a burst
                    _queue.Enqueue(head, (head.Due, ++_seq));
                }
                else
                {
                    _timers.Remove(head.Id);
                    _ctx.KeepAlive(-1);
                }
                break;
            }
        }
        try
        {
            fire?.Handler();
        }
        finally
        {
            lock (_gate) ArmLocked();
        }
    }

    private void ArmLocked()
    {
        if (_released || _serving) return;
        while (_queue.TryPeek(out Entry? head, out _) && head.Cancelled) _queue.Dequeue();
        if (!_queue.TryPeek(out _, out var key)) { _alarm.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan); return; }
        long wait = key.Due - Now;
        if (wait <= 0)
        {
            _alarm.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); // due now: the alarm's thread offers it to the loop
            return;
        }
        _alarm.Change(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency))), Timeout.InfiniteTimeSpan);
    }

    private sealed class Entry(int id, Action handler, long period)
    {
        public int Id { get; } = id;
        public Action Handler { get; } = handler;
        public long Period { get; } = period;
        public long Due;
        public bool Cancelled;
    }

    private void CancelAll()
    {
        lock (_gate)
        {
            foreach (int id in _timers.Keys.ToArray()) Cancel(id);
            _queue.Clear();
            _released = true;
            _alarm.Dispose();
        }
    }
}
