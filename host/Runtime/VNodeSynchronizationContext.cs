namespace NicScript.Host.Runtime;

/// <summary>The synchronization context of a V-Node's loop thread: what a script posts (an <c>await</c> continuation, an
/// <c>async void</c> method's exception) runs on that loop, under the script's budget, and fails only that V-Node.</summary>
/// <remarks>
/// Design: without it an <c>await</c> in a script continues on the thread pool (no budget applies there) and an
/// <c>async void</c> method's exception is rethrown on a pool thread, which ends the process. <see cref="Post"/> never
/// throws (the runtime would send the exception to the pool instead). Host code on the loop that blocks on a task whose
/// awaits would come back here must <see cref="Suppress"/> the context first, or use <see cref="Wait"/>.
/// </remarks>
public sealed class VNodeSynchronizationContext : SynchronizationContext
{
    private readonly VNodeLoop _loop;

    internal VNodeSynchronizationContext(VNodeLoop loop) => _loop = loop;

    public override void Post(SendOrPostCallback d, object? state) => _loop.PostContinuation(d, state);

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (_loop.IsOnLoop) d(state);
        else _loop.InvokeAsync(() => { d(state); return 0; }).GetAwaiter().GetResult();
    }

    public override SynchronizationContext CreateCopy() => this;

    public override void OperationStarted() => _loop.AsyncOperation(+1);

    public override void OperationCompleted() => _loop.AsyncOperation(-1);

    /// <summary>Waits for <paramref name="task"/> and returns its result; on a V-Node loop it runs the loop's continuations
    /// meanwhile (a script's top level that awaits is completed by them), elsewhere it just blocks.</summary>
    public static T Wait<T>(Task<T> task)
    {
        if (!task.IsCompleted && Current is VNodeSynchronizationContext c && c._loop.IsOnLoop) c._loop.PumpUntil(task);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs host code without the loop's context until disposed: its awaits continue on the pool, so it can block on them.</summary>
    public static Suppression Suppress()
    {
        SynchronizationContext? current = Current;
        if (current is VNodeSynchronizationContext) SetSynchronizationContext(null);
        return new Suppression(current);
    }

    public readonly struct Suppression(SynchronizationContext? previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous is VNodeSynchronizationContext) SetSynchronizationContext(previous);
        }
    }
}
