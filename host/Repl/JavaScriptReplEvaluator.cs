using NicScript.Host.Manifests;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.JavaScript;

namespace NicScript.Host.Repl;

/// <summary>The REPL's JavaScript: one Jint engine for the whole session, so state persists.</summary>
public sealed class JavaScriptReplEvaluator : IReplEvaluator
{
    private static readonly HashSet<string> Builtins = new(new Jint.Engine().Global.GetOwnPropertyKeys().Select(k => k.ToString()));
    private readonly JavaScriptEngine _engine;
    private int _inputs;

    public JavaScriptReplEvaluator(VNodeGlobals globals, ScriptBudget budget, CancellationToken stopping)
    {
        _engine = new JavaScriptEngine("repl", "", budget, stopping);
        _engine.Bind(globals);
    }

    public ScriptLanguage Language => ScriptLanguage.JavaScript;

    public bool IsIncomplete(string code) => JavaScriptEngine.IsIncomplete(code);

    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);

    public ScriptOutcome Evaluate(string code)
    {
        string name = $"repl{++_inputs}";
        // The nesting limits first, on a large stack: past them, Acornima or Jint would recurse off the loop's stack.
        if (JavaScriptSource.CheckLimits(name, code) is { } deep) return new ScriptOutcome.Failed(deep.At, deep.Message);
        ScriptOutcome outcome = _engine.Evaluate(code, name);
        if (outcome is ScriptOutcome.Completed) Declare(code);
        return outcome;
    }

    // let/const/class at the top level are not properties of the global object: remember their names from the source.
    private void Declare(string code)
    {
        Acornima.Ast.Script script;
        try { script = new Acornima.Parser().ParseScript(code); }
        catch (Acornima.ParseErrorException) { return; }
        foreach (Acornima.Ast.Statement statement in script.Body)
        {
            switch (statement)
            {
                case Acornima.Ast.VariableDeclaration v:
                    foreach (var d in v.Declarations)
                        if (d.Id is Acornima.Ast.Identifier id) _declared.Add(id.Name);
                    break;
                case Acornima.Ast.FunctionDeclaration { Id: { } f }:
                    _declared.Add(f.Name);
                    break;
                case Acornima.Ast.ClassDeclaration { Id: { } c }:
                    _declared.Add(c.Name);
                    break;
            }
        }
    }

    public ScriptOutcome Invoke<TState>(Action<TState> call, TState state) => _engine.Invoke(call, state);

    /// <remarks>From the runtime value, read without calling getters (<see cref="JavaScriptEngine.MemberNames"/>).</remarks>
    public IReadOnlyList<string>? Members(string line, string owner) => _engine.MemberNames(owner.Split('.'), _declared);

    public IEnumerable<string> Variables => _engine.GlobalNames().Where(n => !Builtins.Contains(n)).Concat(_declared);

    public void Dispose() => _engine.Dispose();
}
