using System.Collections.Concurrent;

namespace NicScript.Host.Capabilities;

/// <summary>A V-Node's timers: each fire is delivered on the V-Node's loop, in order with its interrupts and messages.</summary>
/// <remarks>The host's own timers are the only ones a script gets (the sandbox refuses System.Threading.Timer). A pending
/// one-shot or a repeating timer keeps the V-Node running; all of them stop with the V-Node.</remarks>
internal sealed class ScriptTimers
{
    public const double MinPeriodMs = 1, MaxDelayMs = 24 * 3600 * 1000;

    private readonly VNodeContext _ctx;
    private readonly ConcurrentDictionary<int, Entry> _timers = new();
    private int _nextId;

    public ScriptTimers(VNodeContext ctx)
    {
        _ctx = ctx;
        ctx.OnRelease(CancelAll);
    }

    public int Start(double delayMs, Action handler, bool repeat)
    {
        if (!(delayMs >= (repeat ? MinPeriodMs : 0) && delayMs <= MaxDelayMs))
            throw new ScriptCallException($"timer of {delayMs} ms: expected {(repeat ? MinPeriodMs : 0)}..{MaxDelayMs} ms");
        int id = Interlocked.Increment(ref _nextId);
        var due = TimeSpan.FromMilliseconds(delayMs);
        var entry = new Entry(handler);
        entry.Timer = new Timer(_ => Fire(id, entry, repeat), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timers[id] = entry;
        _ctx.KeepAlive(+1);
        entry.Timer.Change(due, repeat ? due : Timeout.InfiniteTimeSpan);
        return id;
    }

    private void Fire(int id, Entry entry, bool repeat)
    {
        if (entry.Cancelled) return;
        if (!repeat && _timers.TryRemove(id, out _))
        {
            entry.Timer!.Dispose();
            _ctx.KeepAlive(-1);
        }
        // Checked again on the loop: a fire already queued when the script cancels the timer does not run.
        _ctx.Dispatcher?.Dispatch(static e => { if (!e.Cancelled) e.Handler(); }, entry);
    }

    public bool Cancel(int id)
    {
        if (!_timers.TryRemove(id, out Entry? e)) return false;
        e.Cancelled = true;
        e.Timer!.Dispose();
        _ctx.KeepAlive(-1);
        return true;
    }

    private sealed class Entry(Action handler)
    {
        public Action Handler { get; } = handler;
        public Timer? Timer { get; set; }
        public volatile bool Cancelled;
    }

    private void CancelAll()
    {
        foreach (int id in _timers.Keys) Cancel(id);
    }
}
