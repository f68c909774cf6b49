using System.Text.RegularExpressions;
using Acornima;
using Acornima.Ast;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Jint's wording of the commonest TypeErrors, told as V8 (and so Node) tells them: naming the expression.</summary>
/// <remarks>
/// Design: Jint says <c>Property 'transmit' of object is not a function</c> for <c>nic.transmit()</c>, where Node says
/// <c>nic.transmit is not a function</c>, so
/// the expression is found in the script's syntax tree (see <see cref="Callee"/>); when it cannot be found the message
/// stays Jint's. Only the reported failure is reworded: a script that catches the error sees Jint's
/// message (we cannot change it before the script's <c>catch</c> runs).
/// </remarks>
internal static partial class JavaScriptErrors
{
    /// <summary>Longest expression quoted in a message; longer ones are cut with an ellipsis.</summary>
    private const int MaxExpression = 80;

    /// <summary><paramref name="described"/> (what <see cref="ClrErrors.Describe"/> made of the error) in V8's words when it
    /// is one Jint words its own way, and the place to report: the callee's start for a call of something that is not a
    /// function, else <paramref name="line"/>:<paramref name="column"/> (1-based) where Jint pointed.</summary>
    public static (string Reason, int Line, int Column) Explain(string described, string? source, int line, int column)
    {
        Match m = NotAFunction().Match(described);
        if (m.Success && source is not null && Callee(source, m.Groups[1].Value, line, column) is { } callee)
            return ($"TypeError: {callee.Text} is not a function", callee.Line, callee.Column);
        m = CannotRead().Match(described);
        if (m.Success) return ($"TypeError: Cannot read properties of {m.Groups[2].Value} (reading '{m.Groups[1].Value}')", line, column);
        return (described, line, column);
    }

    /// <summary>
    /// The call of <paramref name="name"/> around where Jint pointed: Jint's location is the last expression it evaluated
    /// (the callee, the whole call, or the call's last argument), so the script is parsed again (slow path: failures only)
    /// and the innermost call containing that place whose callee is named <paramref name="name"/> is the one — its callee's
    /// text and start. Null when there is none (the message stays Jint's).
    /// </summary>
    private static (string Text, int Line, int Column)? Callee(string source, string name, int line, int column)
    {
        int at = Offset(source, line, column - 1);
        if (at < 0) return null;
        Node? found = ParserThread.Run(() =>
        {
            Node root;
            try { root = new Parser().ParseScript(source); }
            catch (ParseErrorException) { return null; }
            catch (InsufficientExecutionStackException) { return null; }
            Node? best = null;
            var pending = new Stack<Node>();
            pending.Push(root);
            while (pending.TryPop(out Node? node))
            {
                if (node.Range.Start > at || node.Range.End < at) continue; // not around the place: nor is anything inside it
                if (node is CallExpression call && Names(call.Callee, name) && (best is null || call.Range.Start >= best.Range.Start)) best = call.Callee;
                foreach (Node child in node.ChildNodes) pending.Push(child);
            }
            return best;
        });
        if (found is null) return null;
        string text = Whitespace().Replace(source[found.Range.Start..found.Range.End], " ").Trim();
        if (text.Length > MaxExpression) text = text[..(MaxExpression - 1)] + "…";
        return (text, found.Location.Start.Line, found.Location.Start.Column + 1);
    }

    /// <summary>True when <paramref name="callee"/> is <c>name</c>, <c>x.name</c> or <c>x["name"]</c> / <c>x[0]</c>.</summary>
    private static bool Names(Node callee, string name) => callee switch
    {
        Identifier id => id.Name == name,
        MemberExpression { Computed: false, Property: Identifier p } => p.Name == name,
        MemberExpression { Computed: true, Property: Literal l } => l.Value?.ToString() == name,
        _ => false,
    };

    /// <summary>The offset of a 1-based line and 0-based column, counting line terminators as ECMAScript does; -1 when outside.</summary>
    private static int Offset(string source, int line, int column)
    {
        int i = 0;
        for (int l = 1; l < line; l++)
        {
            while (i < source.Length && source[i] is not ('\n' or '\r' or '\u2028' or '\u2029')) i++;
            if (i >= source.Length) return -1;
            i += source[i] == '\r' && i + 1 < source.Length && source[i + 1] == '\n' ? 2 : 1;
        }
        return i + column <= source.Length ? i + column : -1;
    }

    [GeneratedRegex(@"^TypeError: Property '(.*)' of object is not a function$")]
    private static partial Regex NotAFunction();

    [GeneratedRegex(@"^TypeError: Cannot read property '(.*)' of (undefined|null)$")]
    private static partial Regex CannotRead();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
