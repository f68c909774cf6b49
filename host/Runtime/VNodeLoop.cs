using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using NicScript.Host.Scripting;

namespace NicScript.Host.Runtime;

/// <summary>One V-Node's event loop: a thread of its own that runs queued work in order, within the V-Node's CPU share.</summary>
/// <remarks>
/// Design: everything a V-Node's script sees — its top level, interrupts, IPC messages, timers, the continuations of its
/// <c>await</c>s — is a work item run here, one at a time, so a script never sees two of its handlers at once and needs no
/// locks. The queue is bounded: a producer that outruns the loop is told (TryPost returns false) and counts a drop instead
/// of making the host grow without bound.
/// <para>Share: the loop's thread is watched by <see cref="CpuWatchdog"/>, which keeps its account (credit earned at
/// <c>max_cpu_share</c> × wall time, spent by CPU time used). While the account is in debt the loop waits before its next
/// item (throttling, as cgroups do); the items wait in the queue, none is dropped for it.</para>
/// <para>Containment: the loop's thread has a <see cref="VNodeSynchronizationContext"/>, so <c>await</c> continuations and
/// the exceptions of <c>async void</c> methods come back here (run by <see cref="ContinuationRunner"/>, under the script's
/// budget) instead of landing on the thread pool, where an exception ends the process. A work item that throws is
/// reported to <see cref="Faulted"/> and fails only this V-Node.</para>
/// </remarks>
public sealed class VNodeLoop : IDisposable
{
    /// <summary>Room for C# scripts' recursion checks to trip well before the thread's stack runs out.</summary>
    private const int StackBytes = 16 * 1024 * 1024;

    private readonly Channel<WorkItem> _queue;
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _continuations = new();
    private readonly ManualResetEventSlim _signal = new(false);
    private readonly Thread _thread;
    private readonly double _share;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _completed;
    private ThreadCpuClock? _clock;
    private int _busy;
    private int _asyncOperations;

    /// <param name="cpuShare">The V-Node's <c>max_cpu_share</c>: the share of one core it may use over time (1: a whole core, not throttled).</param>
    public VNodeLoop(string name, int capacity = 4096, double cpuShare = 1)
    {
        _share = cpuShare;
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

    /// <summary>True while no item or continuation is queued or running and no <c>async void</c> method of the script is pending.</summary>
    public bool IsIdle => Volatile.Read(ref _busy) == 0 && Volatile.Read(ref _asyncOperations) == 0 && _continuations.IsEmpty;

    /// <summary>Runs a continuation posted to the loop's synchronization context; the owner sets it to run it under the script's
    /// budget and to fail the V-Node when it throws. Unset: it runs as it is, and an exception goes to <see cref="Faulted"/>.</summary>
    public Action<SendOrPostCallback, object?>? ContinuationRunner { get; set; }

    /// <summary>A work item or continuation threw: the owner fails its V-Node. Unset, or throwing itself: the loop stops taking work.</summary>
    public Action<Exception>? Faulted { get; set; }

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

    /// <summary>Stops taking work; what is queued still runs (without waiting for the share).</summary>
    public void Complete()
    {
        _completed = true;
        _queue.Writer.TryComplete();
        _signal.Set();
    }

    public bool IsOnLoop => Thread.CurrentThread == _thread;

    /// <summary>CPU time the loop's thread has used: all of the V-Node's work (read when the loop stops, live before).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            long ns = Volatile.Read(ref _cpuAtStopNs);
            if (ns < 0 && _clock is { } c) ns = c.ReadNs();
            if (ns < 0) ns = Volatile.Read(ref _cpuAtStopNs);
            return TimeSpan.FromTicks(Math.Max(0, ns) / 100);
        }
    }

    private long _cpuAtStopNs = -1;

    /// <summary>Tells the share account not to charge <paramref name="cpu"/> of the work running now (the top level's start-up allowance).</summary>
    public void Forgive(TimeSpan cpu)
    {
        if (_clock is { } c && cpu > TimeSpan.Zero) Interlocked.Add(ref c.Credit, cpu.Ticks * 100);
    }

    /// <summary>From the synchronization context (any thread): queues a continuation. Never throws: an <c>async void</c>
    /// method's exception arrives here, and a throw would send it to the thread pool.</summary>
    internal void PostContinuation(SendOrPostCallback callback, object? state)
    {
        if (_completed) return; // the V-Node is stopping: its script's continuations do not run any more
        _continuations.Enqueue((callback, state));
        _signal.Set();
        _queue.Writer.TryWrite(default); // wakes the loop; when the queue is full the loop is awake anyway
    }

    internal void AsyncOperation(int delta) => Interlocked.Add(ref _asyncOperations, delta);

    /// <summary>On the loop: waits for <paramref name="task"/> (a script's top level that awaits), running the loop's posted
    /// continuations meanwhile (they are what completes it). Other work waits, as it does for any running item.</summary>
    internal void PumpUntil(Task task)
    {
        task.ContinueWith(static (_, s) => ((ManualResetEventSlim)s!).Set(), _signal, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (!task.IsCompleted)
        {
            _signal.Reset();
            if (_continuations.TryDequeue(out var c))
            {
                c.Callback(c.State); // inside the waiting invocation: its budget, and its failure if this throws
                continue;
            }
            if (task.IsCompleted) break;
            if (_completed) throw new ScriptBudgetExceededException("stopped: the host is shutting the V-Node down", cancelled: true);
            _signal.Wait(100);
        }
    }

    private void Drain()
    {
        _clock = ThreadCpuClock.Current;
        _clock.Share = _share;
        SynchronizationContext.SetSynchronizationContext(new VNodeSynchronizationContext(this));
        try
        {
            ChannelReader<WorkItem> reader = _queue.Reader;
            while (true)
            {
                RunContinuations();
                if (reader.TryRead(out WorkItem item))
                {
                    if (item.Work is null) continue; // a wake-up for continuations
                    Throttle();
                    Run(item);
                    continue;
                }
                _clock.Busy = false;
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
            }
        }
        finally
        {
            _clock.Busy = false;
            Volatile.Write(ref _cpuAtStopNs, _clock.ReadNs());
            _clock.Release();
            _stopped.TrySetResult();
        }
    }

    private void Run(WorkItem item)
    {
        MarkBusy();
        try { item.Work!(item.State); }
        catch (Exception e) { Fault(e); }
        finally { Interlocked.Decrement(ref _busy); }
    }

    private void RunContinuations()
    {
        while (_continuations.TryDequeue(out var c))
        {
            Throttle();
            MarkBusy();
            try
            {
                if (ContinuationRunner is { } run) run(c.Callback, c.State);
                else c.Callback(c.State);
            }
            catch (Exception e) { Fault(e); }
        }
    }

    private void MarkBusy()
    {
        if (_clock!.Busy) return;
        _clock.Busy = true;
        CpuWatchdog.Poke();
    }

    /// <summary>While the V-Node's share account is in debt, waits (the next item stays queued) until it is not.</summary>
    private void Throttle()
    {
        ThreadCpuClock clock = _clock!;
        long ready = Volatile.Read(ref clock.ReadyAt);
        if (ready == 0) return;
        while (!_completed && ready > Stopwatch.GetTimestamp())
        {
            clock.Busy = false; // waiting uses no CPU; the watchdog samples once more and then only keeps the account
            int ms = (int)Math.Clamp((ready - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency + 1, 1, 100);
            _signal.Reset();
            if (_completed) break;
            _signal.Wait(ms);
            ready = Volatile.Read(ref clock.ReadyAt);
            if (ready == 0) break;
        }
    }

    private void Fault(Exception e)
    {
        try
        {
            if (Faulted is { } report) { report(e); return; }
        }
        catch (Exception)
        {
            // the owner could not report it: fail closed below
        }
        Complete();
    }

    public void Dispose()
    {
        Complete();
        if (!IsOnLoop) _thread.Join(TimeSpan.FromSeconds(5));
    }

    private readonly record struct WorkItem(Action<object?>? Work, object? State);
}
