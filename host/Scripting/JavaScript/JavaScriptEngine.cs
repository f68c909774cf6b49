using System.Reflection;
using System.Text.RegularExpressions;
using Acornima;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Runs a V-Node's JavaScript with Jint: the handles as camelCase globals, no other CLR access, Jint's own budgets.</summary>
/// <remarks>
/// Closed by default (STYLE §3.2): <c>Interop.Enabled</c> stays false, so there is no <c>importNamespace</c> or
/// <c>System</c>; <c>GetType</c> and reflection stay off; only members marked <see cref="ScriptApiAttribute"/> are
/// visible, under the names the member-name creator gives them (<c>RxPoll</c> → <c>rxPoll</c>).
/// </remarks>
public sealed partial class JavaScriptEngine : IScriptEngine, IScriptLocator
{
    /// <summary>Deep enough for real code, shallow enough that the CLR stack never overflows.</summary>
    public const int MaxRecursionDepth = 512;

    private readonly Engine _engine;
    private readonly string _source;
    private readonly string _fileName;
    private readonly ScriptBudget _budget;
    private readonly CancellationToken _stopping;

    public JavaScriptEngine(string scriptPath, string source, ScriptBudget budget, CancellationToken stopping)
    {
        _stopping = stopping;
        ScriptPath = scriptPath;
        _fileName = Path.GetFileName(scriptPath);
        _source = source;
        _budget = budget;
        _engine = new Engine(options =>
        {
            options.Strict = false;
            options.Interop.Enabled = false;
            options.Interop.AllowGetType = false;
            options.Interop.AllowSystemReflection = false;
            options.Interop.AllowWrite = false;
            options.Interop.ArrayConversion = ArrayConversionMode.Copy;        // CLR arrays become real JS arrays
            options.Interop.TypeResolver = ObjectModel;
            options.Interop.ExceptionHandler = e => e is UserErrorException;   // handle errors become catchable JS Errors
            options.Host.StringCompilationAllowed = false;                          // no eval / new Function
            options.Constraints.Constraints.Add(new BudgetConstraint()); // the CPU slice, checked on every statement
            options.LimitMemory(budget.MemoryBytes);                      // Jint's own: bytes allocated since the call began
            options.Constraints.MaxRecursionDepth = MaxRecursionDepth;
            options.CancellationToken(stopping);
        });
    }

    /// <summary>The one object model: only <see cref="ScriptApiAttribute"/> members, named in camelCase.</summary>
    internal static readonly TypeResolver ObjectModel = new()
    {
        MemberFilter = m => m.IsDefined(typeof(ScriptApiAttribute), inherit: true),
        MemberNameCreator = m => [CamelCase(m.Name)],
    };

    public ScriptLanguage Language => ScriptLanguage.JavaScript;

    public string ScriptPath { get; }

    internal static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    /// <summary>Parses the script without running it: a syntax error is a problem with its line and column.</summary>
    public static ScriptProblem? Check(string scriptPath, string source)
    {
        try
        {
            new Parser().ParseScript(source, Path.GetFileName(scriptPath));
            return null;
        }
        catch (ParseErrorException e)
        {
            return new ScriptProblem(new SourceSpan(scriptPath, e.LineNumber, e.Column + 1), e.Description); // Acornima columns are 0-based
        }
    }

    public ScriptOutcome Run(VNodeGlobals globals)
    {
        Bind(globals);
        return Guard(static s => s._engine.Evaluate(s._source, s._fileName), this, topLevel: true);
    }

    /// <summary>Makes the handles the engine's globals (camelCase): <c>VNode</c> → <c>vnode</c>, <c>Pci</c> → <c>pci</c>.</summary>
    public void Bind(VNodeGlobals globals)
    {
        foreach (PropertyInfo p in typeof(VNodeGlobals).GetProperties())
            if (p.IsDefined(typeof(ScriptApiAttribute))) _engine.SetValue(p.Name.ToLowerInvariant(), p.GetValue(globals));
    }

    /// <summary>Runs more code in the same engine (the REPL): state persists; the input gets the top level's allowance.</summary>
    public ScriptOutcome Evaluate(string code, string name) =>
        Guard(static s => s.Item1._engine.Evaluate(s.code, s.name), (this, code, name), topLevel: true);

    /// <summary>True when <paramref name="code"/> stops before it is finished (an open brace, string or call): the REPL reads on.</summary>
    public static bool IsIncomplete(string code)
    {
        try
        {
            new Parser().ParseScript(code);
            return false;
        }
        catch (ParseErrorException e)
        {
            return e.Description.Contains("end of input", StringComparison.OrdinalIgnoreCase) || e.Description.Contains("Unterminated", StringComparison.Ordinal);
        }
    }

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
        try
        {
            JsValue value = body(state);
            if (scope.Exceeded is { } over) return Fail(Locate(), over);
            return new ScriptOutcome.Completed(value.IsUndefined() ? null : value.ToObject());
        }
        catch (ScriptBudgetExceededException e)
        {
            return e.Cancelled ? new ScriptOutcome.Cancelled() : Fail(Locate(), e.Message);
        }
        catch (JavaScriptException e)
        {
            return Fail(At(e.Location), e.Error.IsObject() && e.Error.AsObject().Get("message") is JsString m ? Named(e.Error, m.ToString()) : e.Message);
        }
        catch (ParseErrorException e)
        {
            return Fail(new SourceSpan(ScriptPath, e.LineNumber, e.Column + 1), "SyntaxError: " + e.Description);
        }
        catch (MemoryLimitExceededException)
        {
            return Fail(SourceSpan.None(ScriptPath), _budget.DescribeMemory());
        }
        catch (RecursionDepthOverflowException e)
        {
            return Fail(SourceSpan.None(ScriptPath), $"recursion too deep (more than {MaxRecursionDepth} calls) in {e.CallExpressionReference}");
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
    }

    private static string Named(JsValue error, string message) =>
        error.AsObject().Get("name") is JsString name && name.ToString() != "Error" ? $"{name}: {message}" : message;

    private ScriptOutcome.Failed Fail(SourceSpan at, string reason) => new(at, reason);

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

    [GeneratedRegex(@":(\d+):(\d+)\)?\s*$", RegexOptions.Multiline)]
    private static partial Regex FrameLocation();

    public void Dispose() => _engine.Dispose();

    /// <summary>Our CPU slice as a Jint constraint: Jint calls it on every statement.</summary>
    private sealed class BudgetConstraint : Constraint
    {
        public override void Check() => ScriptBudget.Check();

        public override void Reset()
        {
        }
    }
}
