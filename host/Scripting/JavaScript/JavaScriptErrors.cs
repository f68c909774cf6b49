using System.Text.RegularExpressions;
using Acornima;
using Acornima.Ast;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Jint's wording of the commonest TypeErrors, told as V8 (and so Node) tells them: naming the expression.</summary>
/// <remarks>
/// Design: Jint says <c>Property 'transmit' of object is not a function</c> for <c>nic.transmit()</c>, where Node says
/// <c>nic.transmit is not a function</c>. The error's location spans the callee (or the whole call, for a bare name), so
/// the expression is read back from the source there and parsed on its own; anything that does not read back as an
/// expression keeps Jint's message. Only the reported failure is reworded: a script that catches the error sees Jint's
/// message (we cannot change it before the script's <c>catch</c> runs).
/// </remarks>
internal static partial class JavaScriptErrors
{
    /// <summary>Longest expression quoted in a message; longer ones are cut with an ellipsis.</summary>
    private const int MaxExpression = 80;

    /// <summary><paramref name="described"/> (what <see cref="ClrErrors.Describe"/> made of the error) in V8's words, when it is one Jint words its own way.</summary>
    public static string Explain(string described, string? source, in SourceLocation at)
    {
        Match m = NotAFunction().Match(described);
        if (m.Success && source is not null && Callee(source, at) is { } callee) return $"TypeError: {callee} is not a function";
        m = CannotRead().Match(described);
        if (m.Success) return $"TypeError: Cannot read properties of {m.Groups[2].Value} (reading '{m.Groups[1].Value}')";
        return described;
    }

    /// <summary>The callee's source text at <paramref name="at"/>: the span itself, or its callee when the span is a whole call.</summary>
    private static string? Callee(string source, in SourceLocation at)
    {
        int start = Offset(source, at.Start.Line, at.Start.Column), end = Offset(source, at.End.Line, at.End.Column);
        if (start < 0 || end <= start || end - start > 4096) return null;
        string text = source[start..end];
        try
        {
            Expression e = new Parser().ParseExpression(text);
            if (e is CallExpression call) e = call.Callee;
            text = text[e.Range.Start..e.Range.End];
        }
        catch (ParseErrorException)
        {
            return null;
        }
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= MaxExpression ? text : text[..(MaxExpression - 1)] + "…";
    }

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
