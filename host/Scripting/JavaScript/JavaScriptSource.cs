using Acornima;
using Acornima.Ast;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Parses JavaScript source within explicit limits before Jint sees it: brackets (<see cref="SourceNesting"/>),
/// then the syntax tree's depth, the parse itself on a <see cref="ParserThread"/>.</summary>
/// <remarks>
/// Design: Acornima recurses per nesting level and Jint's interpreter and its hoisting walker recurse per syntax level
/// (the walker refuses past 256, as an exception the host did not expect). A tree no deeper than
/// <see cref="MaxSyntaxDepth"/> runs on a V-Node's 16 MB loop stack with room to spare, so every script Jint is given
/// has passed here first: the file's <c>check</c>, each REPL input.
/// </remarks>
internal static class JavaScriptSource
{
    /// <summary>Levels of syntax a script may nest (a node inside a node …); below Jint's own 256. A chain
    /// <c>a + b + c …</c> is one level per operator.</summary>
    public const int MaxSyntaxDepth = 200;

    /// <summary>A syntax error or a nesting limit passed, with its place; null when the script parses within the limits.</summary>
    public static ScriptProblem? Check(string scriptPath, string source) => Parse(scriptPath, source, reportSyntaxErrors: true);

    /// <summary>Only the nesting limits (a syntax error is left to the engine, which reports it its own way).</summary>
    public static ScriptProblem? CheckLimits(string scriptPath, string source) => Parse(scriptPath, source, reportSyntaxErrors: false);

    /// <summary>True when the code stops before it is finished; input past the limits is finished (and then refused).</summary>
    public static bool IsIncomplete(string code)
    {
        if (SourceNesting.FindTooDeep(code, ScriptLanguage.JavaScript) is not null) return false;
        return ParserThread.Run(() =>
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
            catch (InsufficientExecutionStackException)
            {
                return false;
            }
        });
    }

    private static ScriptProblem? Parse(string scriptPath, string source, bool reportSyntaxErrors)
    {
        if (SourceNesting.FindTooDeep(source, ScriptLanguage.JavaScript) is { } at)
            return new ScriptProblem(new SourceSpan(scriptPath, at.Line, at.Column), $"nesting too deep: more than {SourceNesting.MaxBrackets} brackets inside each other");
        return ParserThread.Run(() =>
        {
            try
            {
                return TooDeep(new Parser().ParseScript(source, Path.GetFileName(scriptPath)), scriptPath);
            }
            catch (ParseErrorException e)
            {
                return reportSyntaxErrors ? new ScriptProblem(new SourceSpan(scriptPath, e.LineNumber, e.Column + 1), e.Description) : null; // Acornima columns are 0-based
            }
            catch (InsufficientExecutionStackException)
            {
                return new ScriptProblem(SourceSpan.None(scriptPath), "nesting too deep for the parser");
            }
        });
    }

    /// <summary>The first node deeper than <see cref="MaxSyntaxDepth"/>, walked without recursion.</summary>
    private static ScriptProblem? TooDeep(Node root, string scriptPath)
    {
        var pending = new Stack<(Node Node, int Depth)>();
        pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            if (item.Depth > MaxSyntaxDepth)
            {
                Position start = item.Node.Location.Start;
                return new ScriptProblem(new SourceSpan(scriptPath, start.Line, start.Column + 1),
                    $"nesting too deep: more than {MaxSyntaxDepth} levels of syntax (nested functions, brackets or a long chain of operators such as a + b + c …)");
            }
            foreach (Node child in item.Node.ChildNodes) pending.Push((child, item.Depth + 1));
        }
        return null;
    }
}
