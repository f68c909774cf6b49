using NicScript.Host.Capabilities;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Runtime;

/// <summary>One running V-Node: its context, its script engine and its loop.</summary>
/// <remarks>
/// The top level runs first on the loop; handlers follow as interrupts and messages arrive. The first failure
/// stops the V-Node (its loop takes no more work) without touching any other V-Node.
/// </remarks>
public sealed class VNodeHost : IScriptDispatcher, IDisposable
{
    private readonly IScriptEngine _engine;
    private readonly VNodeGlobals _globals;
    private readonly ILogger _log;
    private readonly VNodeLoop _loop;
    private readonly TaskCompletionSource _topLevelDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ScriptOutcome? _outcome;
    private long _handlerCalls;
    private readonly HashSet<Delegate> _warm = new(ReferenceEqualityComparer.Instance);

    public VNodeHost(VNodeContext context, VNodeGlobals globals, IScriptEngine engine, ILogger log)
    {
        Context = context;
        _globals = globals;
        _engine = engine;
        _log = log.ForContext("VNode", context.Name);
        _loop = new VNodeLoop(context.Name, cpuShare: context.Manifest.Runtime.MaxCpuShare)
        {
            ContinuationRunner = RunContinuation,
            Faulted = e => Record(Internal(e), "loop"),
        };
        context.Dispatcher = this;
        if (engine is IScriptLocator locator) context.Locator = locator;
    }

    public VNodeContext Context { get; }

    public string Name => Context.Name;

    /// <summary>The result of the top level, or the first failure of any handler after it.</summary>
    public ScriptOutcome? Outcome => Volatile.Read(ref _outcome);

    public bool Failed => Outcome is ScriptOutcome.Failed;

    public long HandlerCalls => Interlocked.Read(ref _handlerCalls);

    /// <summary>CPU time the V-Node's loop has used so far (all of its own work).</summary>
    public TimeSpan CpuTime => _loop.CpuTime;

    /// <summary>True when the top level returned without failing (a later failure came from a handler).</summary>
    public bool Started { get; private set; }

    /// <summary>Completes when the top level has returned (or failed).</summary>
    public Task TopLevelDone => _topLevelDone.Task;

    /// <summary>True when the V-Node has nothing left to do: top level done, no registrations, loop idle — or it failed.</summary>
    public bool Finished => Failed || (_topLevelDone.Task.IsCompleted && Context.Pending == 0 && _loop.IsIdle);

    public void Start()
    {
        if (!_loop.TryPost(static s => ((VNodeHost)s!).RunTopLevel(), this))
            throw new InvalidOperationException("the loop refused the top level");
    }

    public bool Dispatch<T>(Action<T> handler, T argument)
    {
        if (Failed) return false;
        return _loop.TryPost(static s =>
        {
            var (host, h, arg) = ((VNodeHost, Action<T>, T))s!;
            host.RunHandler(h, arg);
        }, (this, handler, argument));
    }

    public bool Post(Action<object?> work, object? state) => !Failed && _loop.TryPost(work, state);

    public bool Invoke<T>(Action<T> handler, T argument)
    {
        RunHandler(handler, argument);
        return !Failed;
    }

    private void RunTopLevel()
    {
        _log.Debug("Running {Script}", _engine.ScriptPath);
        long cpu = ThreadCpuClock.Current.ReadNs();
        ScriptOutcome outcome = Guard(() => _engine.Run(_globals));
        // Start-up (engine, JIT) is not charged to the share, up to the allowance; past it the top level pays like a handler.
        _loop.Forgive(TimeSpan.FromTicks(Math.Min((ThreadCpuClock.Current.ReadNs() - cpu) / 100, ScriptBudget.StartupAllowance.Ticks)));
        Started = outcome is ScriptOutcome.Completed;
        Record(outcome, "top level");
        _topLevelDone.TrySetResult();
    }

    private void RunHandler<T>(Action<T> handler, T argument)
    {
        if (Failed) return;
        Interlocked.Increment(ref _handlerCalls);
        bool first = _warm.Add(handler); // a handler's first call JITs its code path: it gets the start-up allowance
        ScriptOutcome outcome = Guard(() => _engine.Invoke(handler, argument, first));
        if (outcome is not ScriptOutcome.Completed) Record(outcome, "handler");
    }

    /// <summary>On the loop: an <c>await</c> continuation or an <c>async void</c> method's exception of the script, run as
    /// one invocation under its budget; what it throws fails this V-Node with the script's line.</summary>
    private void RunContinuation(SendOrPostCallback callback, object? state)
    {
        if (Failed) return;
        ScriptOutcome outcome = Guard(() => _engine.Invoke(static s => s.callback(s.state), (callback, state)));
        if (outcome is not ScriptOutcome.Completed) Record(outcome, "continuation");
    }

    private ScriptOutcome Guard(Func<ScriptOutcome> run)
    {
        try
        {
            return run();
        }
        catch (Exception e) // our bug, not the script's: keep the host up and say so with the stack
        {
            return Internal(e);
        }
    }

    private ScriptOutcome.Failed Internal(Exception e)
    {
        _log.Error(e, "Internal error while running {VNode}", Name);
        return new ScriptOutcome.Failed(SourceSpan.None(_engine.ScriptPath), "internal error: " + e.Message);
    }

    private void Record(ScriptOutcome outcome, string where)
    {
        if (outcome is ScriptOutcome.Failed f)
        {
            _log.Error("{VNode} failed in its {Where} at {At}: {Reason}", Name, where, f.At.ToString(), f.Reason);
            if (!Failed) Volatile.Write(ref _outcome, outcome); // the first failure is the one reported
            _loop.Complete();
            return;
        }
        Interlocked.CompareExchange(ref _outcome, outcome, null); // a later failure still replaces a completion
    }

    /// <summary>Stops taking work and waits (bounded) for the loop to finish what it runs.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _loop.Complete();
        await Task.WhenAny(_loop.Stopped, Task.Delay(grace)).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _engine.Dispose();
    }
}
