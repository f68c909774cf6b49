using System.Threading.Channels;

namespace NicScript.Host.Runtime;

/// <summary>One V-Node's event loop: a thread of its own that runs queued work in order.</summary>
/// <remarks>
/// Design: everything a V-Node's script sees — its top level, interrupts, IPC messages, timers — is a work item
/// run here, one at a time, so a script never sees two of its handlers at once and needs no locks. The queue is
/// bounded: a producer that outruns the loop is told (TryPost returns false) and counts a drop instead of making
/// the host grow without bound.
/// </remarks>
public sealed class VNodeLoop : IDisposable
{
    /// <summary>Room for C# scripts' recursion checks to trip well before the thread's stack runs out.</summary>
    private const int StackBytes = 16 * 1024 * 1024;

    private readonly Channel<WorkItem> _queue;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _busy;

    public VNodeLoop(string name, int capacity = 4096)
    {
        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _thread = new Thread(Drain, StackBytes) { IsBackground = true, Name = "vnode:" + name };
        _thread.Start();
    }

    /// <summary>Completes when the loop has stopped and run its last item.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>True while no item is queued or running.</summary>
    public bool IsIdle => Volatile.Read(ref _busy) == 0;

    /// <summary>Queues work; false when the queue is full or the loop stopped (the caller counts a drop).</summary>
    public bool TryPost(Action<object?> work, object? state)
    {
        Interlocked.Increment(ref _busy);
        if (_queue.Writer.TryWrite(new WorkItem(work, state))) return true;
        Interlocked.Decrement(ref _busy);
        return false;
    }

    /// <summary>Runs <paramref name="work"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool posted = TryPost(static s =>
        {
            var (w, d) = ((Func<T>, TaskCompletionSource<T>))s!;
            try { d.SetResult(w()); }
            catch (Exception e) { d.SetException(e); }
        }, (work, done));
        if (!posted) done.SetException(new InvalidOperationException("the V-Node's loop is stopped or full"));
        return done.Task;
    }

    /// <summary>Stops taking work; what is queued still runs.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    public bool IsOnLoop => Thread.CurrentThread == _thread;

    private void Drain()
    {
        try
        {
            ChannelReader<WorkItem> reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out WorkItem item))
                {
                    try { item.Work(item.State); }
                    finally { Interlocked.Decrement(ref _busy); }
                }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    public void Dispose()
    {
        Complete();
        if (!IsOnLoop) _thread.Join(TimeSpan.FromSeconds(5));
    }

    private readonly record struct WorkItem(Action<object?> Work, object? State);
}
