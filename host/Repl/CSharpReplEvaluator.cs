using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Repl;

/// <summary>The REPL's C#: Roslyn submissions chained with ContinueWith, each sandbox-checked and budget-instrumented first.</summary>
public sealed class CSharpReplEvaluator : IReplEvaluator
{
    private readonly VNodeGlobals _globals;
    private readonly ScriptBudget _budget;
    private readonly CancellationToken _stopping;
    private readonly ScriptOptions _options;
    private ScriptState<object>? _state;
    private readonly HashSet<string> _submissions = new(StringComparer.Ordinal); // assembly names of verified submissions
    private readonly List<string> _ran = new(); // the source of each submission that ran, for completion's chain
    private CSharpCompletion? _completion;

    public CSharpReplEvaluator(VNodeGlobals globals, ScriptBudget budget, CancellationToken stopping)
    {
        _globals = globals;
        _budget = budget;
        _stopping = stopping;
        _options = CSharpScriptCompiler.Options(Path.Combine(Environment.CurrentDirectory, "repl.csx"));
    }

    public ScriptLanguage Language => ScriptLanguage.CSharp;

    /// <summary>Parsed on a <see cref="ParserThread"/>; input past the bracket limit counts as finished (and is then refused).</summary>
    public bool IsIncomplete(string code) =>
        SourceNesting.FindTooDeep(code, ScriptLanguage.CSharp) is null && ParserThread.Run(() =>
            !SyntaxFactory.IsCompleteSubmission(SyntaxFactory.ParseSyntaxTree(code, new CSharpParseOptions(kind: SourceCodeKind.Script))));

    /// <remarks>Roslyn (parse, check, instrument, compile) runs on a <see cref="ParserThread"/> after the bracket and
    /// syntax-depth limits; only the compiled submission runs here, on the session's loop, under the budget.</remarks>
    public ScriptOutcome Evaluate(string code)
    {
        if (CSharpScriptCompiler.TooDeepBrackets(code, "repl") is { } deep) return new ScriptOutcome.Failed(deep.At, deep.Message);
        var (run, problem) = ParserThread.Run(() => Prepare(code));
        if (problem is not null) return new ScriptOutcome.Failed(problem.At, problem.Message);

        using ScriptBudget.Scope scope = _budget.Enter(topLevel: true, _stopping);
        try
        {
            _state = _state is null
                ? VNodeSynchronizationContext.Wait(run!.RunAsync(_globals))
                : VNodeSynchronizationContext.Wait(run!.RunFromAsync(_state));
            _ran.Add(code);
            _completion?.Add(code);
            if (scope.Exceeded is { } over) return new ScriptOutcome.Failed(At(scope), over);
            return new ScriptOutcome.Completed(_state.ReturnValue);
        }
        catch (ScriptBudgetExceededException e) when (!e.Cancelled)
        {
            return new ScriptOutcome.Failed(At(scope), e.Message);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>The input checked, instrumented and compiled as the next submission, or its first problem.</summary>
    private (Script<object>? Run, ScriptProblem? Problem) Prepare(string code)
    {
        Script<object> next = _state is null ? CSharpScript.Create(code, _options, typeof(VNodeGlobals)) : _state.Script.ContinueWith(code, _options);
        Compilation compilation = next.GetCompilation();
        SyntaxTree tree = compilation.SyntaxTrees.Last();
        if (CSharpScriptCompiler.TooDeep(tree, "repl") is { } deep) return (null, deep);
        List<ScriptProblem> problems = CSharpScriptCompiler.Problems(compilation, tree, "repl");
        if (problems.Count > 0) return (null, problems[0]);
        string instrumented = BudgetInjector.Rewrite(tree, compilation.GetSemanticModel(tree)).ToString();
        Script<object> run = _state is null
            ? CSharpScript.Create(instrumented, _options, typeof(VNodeGlobals))
            : _state.Script.ContinueWith(instrumented, _options);
        // The IL check on exactly the compilation Roslyn will emit and load; earlier submissions were checked in their turn.
        Compilation runCompilation = run.GetCompilation();
        byte[]? image = CSharpScriptCompiler.EmitImage(runCompilation, out Diagnostic? error);
        IReadOnlyList<ScriptProblem> refused = image is null
            ? [new ScriptProblem(SourceSpan.None("repl"), error?.GetMessage(System.Globalization.CultureInfo.InvariantCulture) ?? "the submission does not compile")]
            : ScriptAssemblyVerifier.Verify(image, "repl", _submissions, display: _ => "repl");
        if (refused.Count > 0) return (null, refused[0]);
        _submissions.Add(runCompilation.AssemblyName!);
        run.Compile(); // here, on the large stack
        return (run, null);
    }

    public ScriptOutcome Invoke<TState>(Action<TState> call, TState state)
    {
        using ScriptBudget.Scope scope = _budget.Enter(topLevel: false, _stopping);
        try
        {
            call(state);
            return scope.Exceeded is { } over ? new ScriptOutcome.Failed(SourceSpan.None("repl"), over) : new ScriptOutcome.Completed(null);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>Where a budget stop happened in a submission: every statement of one is top-level and marked, so the
    /// statement that was running (a loop in it, or the call that ran over) is <c>repl:line:col</c> of the input.</summary>
    private static SourceSpan At(ScriptBudget.Scope scope) =>
        scope.Statement is var (line, column) ? new SourceSpan("repl", line, column) : SourceSpan.None("repl");

    private static ScriptOutcome Fail(Exception e) => e switch
    {
        ScriptBudgetExceededException { Cancelled: true } => new ScriptOutcome.Cancelled(),
        ScriptBudgetExceededException or UserErrorException => new ScriptOutcome.Failed(SourceSpan.None("repl"), e.Message),
        _ => new ScriptOutcome.Failed(SourceSpan.None("repl"), $"{e.GetType().Name}: {e.Message}"),
    };

    /// <remarks>Roslyn's completion service over the submissions that ran (<see cref="CSharpCompletion"/>), on a
    /// <see cref="ParserThread"/> like the compiler.</remarks>
    public IReadOnlyList<string>? Members(string line, string owner) => ParserThread.Run(() =>
    {
        if (_completion is null)
        {
            _completion = new CSharpCompletion(CSharpScript.Create("", _options, typeof(VNodeGlobals)).GetCompilation());
            foreach (string code in _ran) _completion.Add(code);
        }
        return _completion.Complete(line);
    });

    public IEnumerable<string> Variables => _state?.Variables.Select(v => v.Name).Distinct() ?? [];

    public void Dispose()
    {
    }
}
