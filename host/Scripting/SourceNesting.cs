using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting;

/// <summary>Counts how deep a script's brackets nest — <c>(</c>, <c>[</c>, <c>{</c> and interpolation holes — before any
/// parser sees it, so a source that would take Roslyn or Acornima deeper than their stack is refused with its place.</summary>
/// <remarks>
/// Design: the parsers recurse once (or more) per bracket and a stack overflow cannot be caught in .NET, so the check
/// must come first and cost nothing: one pass over the characters, skipping comments, strings, character literals,
/// raw strings and (JavaScript) regular expression literals, and following code inside C# interpolated strings and
/// JavaScript template literals. It is a guard, not a parser: where it misreads (a <c>/</c> it takes for division),
/// the parse that follows still runs on a large stack with its own depth check (C#: <see cref="CSharp.CSharpScriptCompiler"/>,
/// JavaScript: <see cref="JavaScript.JavaScriptSource"/>), so a misread can make the count wrong, never the host crash.
/// </remarks>
public static class SourceNesting
{
    /// <summary>Brackets a script may nest. Real code stays far below; each level costs the parsers several frames.</summary>
    public const int MaxBrackets = 128;

    private enum Mode { Code, CsString, CsVerbatim, CsInterpolated, CsInterpolatedVerbatim, JsTemplate }

    /// <summary>The place (1-based line and column) of the first bracket past <paramref name="max"/>, or null.</summary>
    public static (int Line, int Column)? FindTooDeep(string text, ScriptLanguage language, int max = MaxBrackets)
    {
        bool cs = language == ScriptLanguage.CSharp;
        var frames = new Stack<Mode>(); // Mode.Code for a bracket, else the string a closing } returns to
        Mode mode = Mode.Code;
        char previous = '\0';           // the last significant code character (JavaScript: does a / start a regex?)
        int i = 0, n = text.Length;
        while (i < n)
        {
            char c = text[i];
            if (mode != Mode.Code)
            {
                i = ScanString(text, i, ref mode, frames, out bool hole);
                if (hole && frames.Count > max) return Place(text, i - 1);
                continue;
            }
            char next = i + 1 < n ? text[i + 1] : '\0';
            if (c == '/' && next == '/') { i = SkipPast(text, i + 2, "\n"); continue; }
            if (c == '/' && next == '*') { i = SkipPast(text, i + 2, "*/"); continue; }
            switch (c)
            {
                case '(' or '[' or '{':
                    frames.Push(Mode.Code);
                    if (frames.Count > max) return Place(text, i);
                    break;
                case ')' or ']' or '}':
                    if (frames.Count > 0 && frames.Pop() is var back && back != Mode.Code && c == '}') mode = back;
                    break;
                case '"' or '\'' or '`' when !cs:
                    if (c == '`') (mode, i) = (Mode.JsTemplate, i + 1);
                    else i = SkipQuoted(text, i + 1, c);
                    previous = 'a';
                    continue;
                case '/' when !cs && RegexCanStart(previous):
                    i = SkipRegex(text, i + 1);
                    previous = 'a';
                    continue;
                case '"' or '@' or '$' when cs:
                    if (CsStringStart(text, i, out int body, out Mode kind, out int rawQuotes))
                    {
                        if (rawQuotes > 0) i = SkipPast(text, body, new string('"', rawQuotes));
                        else { mode = kind; i = body; }
                        previous = 'a';
                        continue;
                    }
                    break;
                case '\'' when cs:
                    i = SkipQuoted(text, i + 1, '\'');
                    previous = 'a';
                    continue;
            }
            if (!char.IsWhiteSpace(c)) previous = c;
            i++;
        }
        return null;
    }

    /// <summary>Reads a C# string opening at <paramref name="i"/>: its kind, where its body starts, and for a raw string its quote count.</summary>
    private static bool CsStringStart(string text, int i, out int body, out Mode kind, out int rawQuotes)
    {
        int j = i;
        bool verbatim = false, interpolated = false;
        while (j < text.Length && text[j] is '$' or '@')
        {
            if (text[j] == '@') verbatim = true;
            else interpolated = true;
            j++;
        }
        (body, kind, rawQuotes) = (j, Mode.Code, 0);
        if (j >= text.Length || text[j] != '"') return false;
        int quotes = 0;
        while (j + quotes < text.Length && text[j + quotes] == '"') quotes++;
        if (quotes >= 3 && !verbatim) // a raw string: its holes are not followed (the parse's own depth check still applies)
        {
            (body, rawQuotes) = (j + quotes, quotes);
            return true;
        }
        body = j + 1;
        kind = (verbatim, interpolated) switch
        {
            (false, false) => Mode.CsString,
            (true, false) => Mode.CsVerbatim,
            (false, true) => Mode.CsInterpolated,
            _ => Mode.CsInterpolatedVerbatim,
        };
        return true;
    }

    /// <summary>Scans string text from <paramref name="i"/> to its end (mode back to code) or to a hole (a frame pushed).</summary>
    private static int ScanString(string text, int i, ref Mode mode, Stack<Mode> frames, out bool hole)
    {
        hole = false;
        bool verbatim = mode is Mode.CsVerbatim or Mode.CsInterpolatedVerbatim;
        bool holes = mode is Mode.CsInterpolated or Mode.CsInterpolatedVerbatim or Mode.JsTemplate;
        char close = mode == Mode.JsTemplate ? '`' : '"';
        while (i < text.Length)
        {
            char c = text[i];
            char next = i + 1 < text.Length ? text[i + 1] : '\0';
            if (c == '\\' && !verbatim) { i += 2; continue; }
            if (c == close)
            {
                if (verbatim && next == '"') { i += 2; continue; }
                mode = Mode.Code;
                return i + 1;
            }
            if (c == '\n' && mode is Mode.CsString or Mode.CsInterpolated) { mode = Mode.Code; return i + 1; } // unterminated: the parser says so
            if (holes && mode != Mode.JsTemplate && c == '{')
            {
                if (next == '{') { i += 2; continue; }
                frames.Push(mode);
                (mode, hole) = (Mode.Code, true);
                return i + 1;
            }
            if (holes && mode == Mode.JsTemplate && c == '$' && next == '{')
            {
                frames.Push(mode);
                (mode, hole) = (Mode.Code, true);
                return i + 2;
            }
            i++;
        }
        return i;
    }

    private static int SkipQuoted(string text, int i, char quote)
    {
        while (i < text.Length && text[i] != quote && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
        return Math.Min(i + 1, text.Length);
    }

    private static int SkipRegex(string text, int i)
    {
        bool inClass = false;
        while (i < text.Length && text[i] != '\n')
        {
            char c = text[i];
            if (c == '\\') { i += 2; continue; }
            if (c == '[') inClass = true;
            else if (c == ']') inClass = false;
            else if (c == '/' && !inClass) return i + 1;
            i++;
        }
        return i;
    }

    /// <summary>A <c>/</c> after an operator, an opening bracket or nothing starts a regular expression; after a value it divides.</summary>
    private static bool RegexCanStart(char previous) => previous is '\0' or '(' or ',' or '=' or ':' or '[' or '!' or '&' or '|' or '?' or '{' or '}' or ';' or '+' or '-' or '*' or '%' or '<' or '>' or '~' or '^';

    private static int SkipPast(string text, int i, string end)
    {
        int at = text.IndexOf(end, i, StringComparison.Ordinal);
        return at < 0 ? text.Length : at + end.Length;
    }

    private static (int Line, int Column) Place(string text, int index)
    {
        int line = 1, lineStart = 0;
        for (int k = 0; k < index; k++)
            if (text[k] == '\n') (line, lineStart) = (line + 1, k + 1);
        return (line, index - lineStart + 1);
    }
}
