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

    public CSharpReplEvaluator(VNodeGlobals globals, ScriptBudget budget, CancellationToken stopping)
    {
        _globals = globals;
        _budget = budget;
        _stopping = stopping;
        _options = CSharpScriptCompiler.Options(Path.Combine(Environment.CurrentDirectory, "repl.csx"));
    }

    public ScriptLanguage Language => ScriptLanguage.CSharp;

    public bool IsIncomplete(string code) =>
        !SyntaxFactory.IsCompleteSubmission(SyntaxFactory.ParseSyntaxTree(code, new CSharpParseOptions(kind: SourceCodeKind.Script)));

    public ScriptOutcome Evaluate(string code)
    {
        Script<object> next = _state is null ? CSharpScript.Create(code, _options, typeof(VNodeGlobals)) : _state.Script.ContinueWith(code, _options);
        Compilation compilation = next.GetCompilation();
        SyntaxTree tree = compilation.SyntaxTrees.Last();
        List<ScriptProblem> problems = CSharpScriptCompiler.Problems(compilation, tree, "repl");
        if (problems.Count > 0) return new ScriptOutcome.Failed(problems[0].At, problems[0].Message);
        string instrumented = BudgetInjector.Rewrite(tree, compilation.GetSemanticModel(tree)).ToString();

        using ScriptBudget.Scope scope = _budget.Enter(topLevel: true, _stopping);
        try
        {
            _state = _state is null
                ? VNodeSynchronizationContext.Wait(CSharpScript.RunAsync(instrumented, _options, _globals, typeof(VNodeGlobals)))
                : VNodeSynchronizationContext.Wait(_state.ContinueWithAsync(instrumented, _options));
            if (scope.Exceeded is { } over) return new ScriptOutcome.Failed(SourceSpan.None("repl"), over);
            return new ScriptOutcome.Completed(_state.ReturnValue);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
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

    private static ScriptOutcome Fail(Exception e) => e switch
    {
        ScriptBudgetExceededException { Cancelled: true } => new ScriptOutcome.Cancelled(),
        ScriptBudgetExceededException or UserErrorException => new ScriptOutcome.Failed(SourceSpan.None("repl"), e.Message),
        _ => new ScriptOutcome.Failed(SourceSpan.None("repl"), $"{e.GetType().Name}: {e.Message}"),
    };

    public IEnumerable<string> Variables => _state?.Variables.Select(v => v.Name).Distinct() ?? [];

    public void Dispose()
    {
    }
}
