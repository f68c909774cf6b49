using System.Reflection;
using System.Text.RegularExpressions;
using Acornima;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Native.Object;
using Jint.Native.Promise;
using Jint.Runtime.Interop;
using NicScript.Driver.NetDevice;
using NicScript.Host.Capabilities;
using NicScript.Host.Families;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Runs a V-Node's JavaScript with Jint: the handles as camelCase globals, no other CLR access, Jint's own budgets.</summary>
/// <remarks>
/// Closed by default (STYLE §3.2): <c>Interop.Enabled</c> stays false, so there is no <c>importNamespace</c> or
/// <c>System</c>; <c>GetType</c> and reflection stay off; only members marked <see cref="ScriptApiAttribute"/> are
/// visible, under the names the member-name creator gives them (<c>RxPoll</c> → <c>rxPoll</c>). Every such method is
/// called, and every settable such property assigned (<c>dpu.noThrow = true</c>; <c>AllowWrite</c> stays off for the
/// rest), through <see cref="HostCallGuard"/> (bounded arguments, the budget before and after); a CLR exception from a
/// host call becomes the JS error the script catches (<see cref="ClrErrors"/>). Nothing a script builds can overflow
/// the stack: Jint's stack guard covers interpreted calls and its recursive built-ins, <see cref="StackProbes"/> the
/// iterators that resume one another, and conversions go through bounded copies (<see cref="ScriptValues"/>).
/// <para>Async, as in Node: every invocation the V-Node's loop makes (the top level, a handler call, a timer fire, a
/// settled host task) ends with a microtask checkpoint — the promise reactions it made runnable, and the ones those make
/// runnable, run inside the same invocation and budget — so an <c>await</c> resumes as soon as what it waits for
/// settles. A rejection still unhandled after the checkpoint fails the V-Node, as Node's default
/// <c>--unhandled-rejections=throw</c> does. The loop keeps the V-Node alive while a timer or host task that could
/// settle a promise is pending; when none is left, it ends, as Node exits with promises still pending.</para>
/// </remarks>
public sealed partial class JavaScriptEngine : IScriptEngine, IScriptLocator
{
    /// <summary>Deep enough for real code, shallow enough that the CLR stack never overflows.</summary>
    public const int MaxRecursionDepth = 512;

    private readonly Engine _engine;
    private readonly string _source;
    private readonly string _fileName;
    private readonly ScriptBudget _budget;
    private readonly HostCallGuard _hostCalls;
    private readonly CancellationToken _stopping;
    private VNodeContext? _ctx;

    public JavaScriptEngine(string scriptPath, string source, ScriptBudget budget, CancellationToken stopping)
    {
        _stopping = stopping;
        ScriptPath = scriptPath;
        _fileName = Path.GetFileName(scriptPath);
        _source = source;
        _budget = budget;
        _hostCalls = new HostCallGuard(budget);
        _engine = new Engine(options =>
        {
            options.Strict = false;
            options.Interop.Enabled = false;
            options.Interop.AllowGetType = false;
            options.Interop.AllowSystemReflection = false;
            options.Interop.AllowWrite = false;                                  // it opens every CLR setter: Wrap opens the settable [ScriptApi] ones
            options.Interop.ArrayConversion = ArrayConversionMode.Copy;        // CLR arrays become real JS arrays
            options.Interop.TypeResolver = ObjectModel;
            options.Interop.ExceptionHandler = _hostCalls.Errors = e => e switch // catchable JS Errors (ClrErrors); status errors carry their fields
            {
                ZxException zx => throw ZxError(zx),
                _ when DeviceFamilies.ErrorFields(e) is { } fields => throw StatusError(e.Message, fields), // a family's status error (the DPU's)
                _ when ClrErrors.EndsTheInvocation(e) => false,
                UserErrorException => throw ClrErrors.ToJavaScript(_engine!, e),   // its message is already the user's
                _ => throw ClrErrors.ToJavaScript(_engine!, e, _hostCalls.Current), // a bare CLR message: say which call
            };
            options.Interop.MemberAccessor = _hostCalls.Access;                  // every [ScriptApi] method behind one guard
            options.EnableModules(new NoModuleLoader(() => _engine!));          // import() is a catchable TypeError
            options.Constraints.StackOverflowGuard = true;                       // Jint's built-ins: a RangeError, not a dead process
            options.Interop.WrapObjectHandler = (engine, target, type) => target is Task task ? Promise(task) : _hostCalls.Wrap(engine, target, type); // settable [ScriptApi] properties through the guard
            options.Host.StringCompilationAllowed = false;                          // no eval / new Function
            options.Constraints.Constraints.Add(new BudgetConstraint(this)); // CPU, memory (bytes allocated in the call) and stack, on every statement
            options.Constraints.MaxRecursionDepth = MaxRecursionDepth;
            options.Constraints.RegexTimeout = CSharp.RegexDefaults.MatchTimeout; // one match, like C#: a catastrophic pattern is a failure, not a hang
            options.CancellationToken(stopping);
        });
        ClrErrors.Remember(_engine);
        StackProbes.Install(_engine);
        _engine.Advanced.PromiseRejectionTracker += TrackRejection;
    }

    /// <summary>Rejected promises without a handler yet, and the script's stack when each was rejected (slow path).</summary>
    private readonly List<(JsValue Promise, JsValue Reason, string? Stack)> _unhandled = new();

    /// <summary>Jint's HostPromiseRejectionTracker: a rejection with no handler is noted; a handler attached later (before the
    /// checkpoint ends, as Node allows) takes it back.</summary>
    private void TrackRejection(object? sender, PromiseRejectionTrackerEventArgs e)
    {
        if (e.Operation == PromiseRejectionOperation.Reject) _unhandled.Add((e.Promise, e.Value ?? JsValue.Undefined, _engine.Advanced.StackTrace));
        else _unhandled.RemoveAll(r => ReferenceEquals(r.Promise, e.Promise));
    }

    /// <summary>The first rejection nobody handled by the end of the checkpoint, as the V-Node's failure at the line that threw.</summary>
    private ScriptOutcome.Failed? Unhandled()
    {
        if (_unhandled.Count == 0) return null;
        var (_, reason, stack) = _unhandled[0];
        _unhandled.Clear();
        string? where = reason is ObjectInstance o && ClrErrors.DataStack(o) is { } own ? own : stack; // where the Error was made, else where it was rejected
        Match m = FrameLocation().Match(where ?? "");
        SourceSpan at = m.Success ? new SourceSpan(ScriptPath, int.Parse(m.Groups[1].ValueSpan), int.Parse(m.Groups[2].ValueSpan)) : SourceSpan.None(ScriptPath);
        ScriptOutcome.Failed f = Explained(ClrErrors.Describe(reason), _source, at);
        return f with { Reason = "unhandled promise rejection: " + f.Reason };
    }

    /// <summary>The one object model: only the <see cref="ScriptSurface"/>'s members, under their JavaScript names.</summary>
    internal static readonly TypeResolver ObjectModel = new()
    {
        MemberFilter = ScriptSurface.IsVisible,
        MemberNameCreator = m => [ScriptSurface.JavaScriptName(m.Name)],
    };

    public ScriptLanguage Language => ScriptLanguage.JavaScript;

    public string ScriptPath { get; }

    /// <summary>Parses the script without running it: a syntax error or a nesting limit passed is a problem with its line and column.</summary>
    public static ScriptProblem? Check(string scriptPath, string source) => JavaScriptSource.Check(scriptPath, source);

    public ScriptOutcome Run(VNodeGlobals globals)
    {
        Bind(globals);
        return Guard(static s => s._engine.Evaluate(s._source, s._fileName), this, topLevel: true);
    }

    /// <summary>Makes the handles the engine's globals, under their JavaScript names: <c>VNode</c> → <c>vnode</c>, <c>Pci</c> → <c>pci</c>;
    /// each carries its driver constants (<see cref="ScriptSurface.Constants"/>).</summary>
    public void Bind(VNodeGlobals globals)
    {
        _ctx = globals.VNode.Context;
        foreach (PropertyInfo p in ScriptSurface.Globals)
        {
            JsValue handle = JsValue.FromObject(_engine, p.GetValue(globals));
            if (handle is ObjectInstance carrier)
                foreach (ScriptConstants c in ScriptSurface.Constants(p.PropertyType)) Carry(carrier, c);
            _engine.SetValue(ScriptSurface.GlobalName(p, ScriptLanguage.JavaScript), handle);
        }
    }

    /// <summary>Puts <paramref name="constants"/> on a handle's wrapper as read-only data properties: a frozen object named
    /// after the type (<c>net.SessionFlags.PRIMARY</c>), or each constant by itself, on the handle and as a global
    /// (<c>rdma.RDMA_WC_SUCCESS</c>, <c>RDMA_WC_SUCCESS</c>; the global is an ordinary one a script may shadow).</summary>
    private void Carry(ObjectInstance handle, ScriptConstants constants)
    {
        ObjectInstance target = handle;
        if (!constants.Spread)
        {
            target = new JsObject(_engine);
            handle.DefineOwnProperty(constants.Name, new PropertyDescriptor(target, PropertyFlag.Enumerable));
        }
        foreach (FieldInfo f in constants.Members)
        {
            var value = JsNumber.Create(ScriptConstants.Number(f));
            target.DefineOwnProperty(f.Name, new PropertyDescriptor(value, PropertyFlag.Enumerable));
            if (constants.Spread) _engine.SetValue(f.Name, value);
        }
        if (!constants.Spread) target.PreventExtensions();
    }

    /// <summary>Runs more code in the same engine (the REPL): state persists; the input gets the top level's allowance.</summary>
    public ScriptOutcome Evaluate(string code, string name)
    {
        _inputs[name] = code;
        return Guard(static s => s.Item1._engine.Evaluate(s.code, s.name), (this, code, name), topLevel: true);
    }

    /// <summary>REPL inputs by the name they ran under (the latest of each), so an error's expression can be read back.</summary>
    private readonly Dictionary<string, string> _inputs = new(StringComparer.Ordinal);

    private string? SourceOf(in SourceLocation at) =>
        at.SourceFile is { } f && _inputs.TryGetValue(f, out string? code) ? code : at.SourceFile == _fileName ? _source : null;

    /// <summary>True when <paramref name="code"/> stops before it is finished (an open brace, string or call): the REPL reads on.</summary>
    public static bool IsIncomplete(string code) => JavaScriptSource.IsIncomplete(code);

    /// <summary>Names visible at the top level (globals the script made and the handles), for completion.</summary>
    public IEnumerable<string> GlobalNames() => _engine.Global.GetOwnPropertyKeys().Select(k => k.ToString());

    public ScriptOutcome Invoke<TState>(Action<TState> call, TState state, bool firstCall = false)
    {
        _engine.Constraints.Reset(); // each handler call gets a fresh slice and memory count
        return Guard(static s => { s.call(s.state); return JsValue.Undefined; }, (call, state), topLevel: firstCall);
    }

    private ScriptOutcome Guard<TState>(Func<TState, JsValue> body, TState state, bool topLevel)
    {
        using ScriptBudget.Scope scope = _budget.Enter(topLevel, _stopping);
        _budgetStack = null;
        _unhandled.Clear();
        try
        {
            JsValue value = body(state);
            _engine.Advanced.ProcessTasks(); // the microtask checkpoint: reactions run before the loop takes its next event
            if (scope.Exceeded is { } over) return Fail(Locate(), over);
            if (_ctx?.FailedBy is { } why) return Fail(Locate(), why);
            if (Unhandled() is { } rejected) return rejected;
            return new ScriptOutcome.Completed(ScriptValues.ToClr(_engine, value, _budget.MemoryBytes / ScriptValues.BytesPerCell));
        }
        catch (ScriptBudgetExceededException e)
        {
            return e.Cancelled ? new ScriptOutcome.Cancelled() : Fail(BudgetAt(), e.Message);
        }
        catch (JavaScriptException e)
        {
            return Explained(ClrErrors.Describe(e.Error), SourceOf(e.Location), At(e.Location)); // runs none of the script's code
        }
        catch (ParseErrorException e)
        {
            return Fail(new SourceSpan(ScriptPath, e.LineNumber, e.Column + 1), "SyntaxError: " + e.Description);
        }
        catch (MemoryLimitExceededException)
        {
            return Fail(Locate(), _budget.DescribeMemory());
        }
        catch (RecursionDepthOverflowException e)
        {
            return Fail(Locate(), $"recursion too deep (more than {MaxRecursionDepth} calls) in {e.CallExpressionReference}");
        }
        catch (ExecutionCanceledException)
        {
            return new ScriptOutcome.Cancelled();
        }
        catch (UserErrorException e)
        {
            return Fail(Locate(), e.Message);
        }
        catch (InvalidCastException e)
        {
            return Fail(Locate(), "TypeError: " + e.Message);
        }
        catch (RegexMatchTimeoutException)
        {
            return Fail(Locate(), "a regular expression ran past its time limit");
        }
        catch (OutOfMemoryException)
        {
            return Fail(Locate(), _budget.DescribeOutOfMemory());
        }
        catch (InsufficientExecutionStackException)
        {
            return Fail(Locate(), "RangeError: Maximum call stack size exceeded");
        }
    }

    private ScriptOutcome.Failed Fail(SourceSpan at, string reason) => new(at, reason);

    /// <summary>A failure whose reason Jint worded its own way, in V8's words and at the place they name.</summary>
    private ScriptOutcome.Failed Explained(string described, string? source, SourceSpan at)
    {
        if (at.Line <= 0) return Fail(at, described);
        var (reason, line, column) = JavaScriptErrors.Explain(described, source, at.Line, at.Column);
        return Fail(new SourceSpan(at.File, line, column), reason);
    }

    private SourceSpan At(in SourceLocation location) =>
        location.Start.Line > 0 ? new SourceSpan(ScriptPath, location.Start.Line, location.Start.Column + 1) : Locate();

    /// <summary>The innermost script frame of Jint's call stack (slow path: denials and failures only).</summary>
    public SourceSpan Locate()
    {
        Match m = FrameLocation().Match(_engine.Advanced.StackTrace ?? "");
        return m.Success
            ? new SourceSpan(ScriptPath, int.Parse(m.Groups[1].ValueSpan), int.Parse(m.Groups[2].ValueSpan)) // Jint prints 1-based columns
            : SourceSpan.None(ScriptPath);
    }

    /// <summary>A netdevice error as the JS Error scripts catch: <c>status</c> is the name, <c>code</c> the number (reference §8.4).</summary>
    private JavaScriptException ZxError(ZxException zx) => StatusError(zx.Message, ("status", zx.StatusName), ("code", zx.Code));

    /// <summary>A JS <c>Error</c> with extra properties (status name, code, detail) a script can branch on.</summary>
    private JavaScriptException StatusError(string message, params (string Name, object Value)[] fields)
    {
        ObjectInstance error = _engine.Intrinsics.Error.Construct(message);
        foreach (var (name, value) in fields) error.Set(name, JsValue.FromObject(_engine, value));
        return new JavaScriptException(error);
    }

    /// <summary>
    /// A CLR task (a hanging FIDL call such as <c>watchAsync</c>) as a JS promise. The task completes on any thread; the
    /// promise is settled on the V-Node's own loop, where its reactions then run, and the V-Node stays alive meanwhile.
    /// </summary>
    private ObjectInstance Promise(Task task)
    {
        var (promise, resolve, reject) = _engine.Advanced.RegisterPromise();
        VNodeContext? ctx = _ctx;
        ctx?.KeepAlive(+1);
        var pending = new PendingPromise(task, resolve, reject);
        task.ContinueWith(static (_, state) =>
        {
            var (engine, p, c) = ((JavaScriptEngine, PendingPromise, VNodeContext?))state!;
            if (c?.Dispatcher is not { } dispatcher || !dispatcher.Dispatch(engine._settle ??= engine.Settle, p)) c?.KeepAlive(-1);
        }, (this, pending, ctx), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return (ObjectInstance)promise;
    }

    private Action<PendingPromise>? _settle;

    /// <summary>On the V-Node's loop (one invocation): settles the promise; the checkpoint at its end runs the reactions it unblocked.</summary>
    private void Settle(PendingPromise p)
    {
        _ctx?.KeepAlive(-1);
        Task done = p.Task;
        if (done.Exception?.InnerException is { } e) p.Reject(e is ZxException zx ? ZxError(zx).Error : JsValue.FromObject(_engine, e.Message));
        else if (done.IsCanceled) p.Reject(JsValue.FromObject(_engine, "cancelled"));
        else p.Resolve(JsValue.FromObject(_engine, done.GetType().IsGenericType ? done.GetType().GetProperty("Result")!.GetValue(done) : null));
    }

    private sealed record PendingPromise(Task Task, Action<JsValue> Resolve, Action<JsValue> Reject);

    [GeneratedRegex(@":(\d+):(\d+)\)?\s*$", RegexOptions.Multiline)]
    private static partial Regex FrameLocation();

    public void Dispose() => _engine.Dispose();

    /// <summary>Jint's stack when a budget check threw: by the time the exception reaches us it has unwound.</summary>
    private string? _budgetStack;

    /// <summary>Where a budget stopped the script: the statement Jint was running when the check threw.</summary>
    private SourceSpan BudgetAt()
    {
        Match m = FrameLocation().Match(Interlocked.Exchange(ref _budgetStack, null) ?? "");
        return m.Success ? new SourceSpan(ScriptPath, int.Parse(m.Groups[1].ValueSpan), int.Parse(m.Groups[2].ValueSpan)) : Locate();
    }

    /// <summary>Our budget as a Jint constraint: Jint calls it on every statement (CPU flag, bytes allocated, stack).</summary>
    private sealed class BudgetConstraint(JavaScriptEngine owner) : Constraint
    {
        public override void Check()
        {
            try
            {
                ScriptBudget.CheckEntry();
            }
            catch (ScriptBudgetExceededException)
            {
                owner._budgetStack ??= owner._engine.Advanced.StackTrace;
                throw;
            }
        }

        public override void Reset()
        {
        }
    }
}
