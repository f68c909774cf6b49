using NicScript.Host.Manifests;
using RadLine;
using Spectre.Console;
using Spectre.Console.Advanced;

namespace NicScript.Host.Repl;

/// <summary>The interactive prompt: RadLine with history kept across sessions, Ctrl+R substring search, keyword colouring,
/// Tab completion of globals, variables and members (their candidates listed when Tab cannot add more), bracketed
/// paste, and Enter that only submits a complete input — typed, pasted or in a burst.</summary>
public sealed class ReplLineEditor
{
    private static readonly string[] JsKeywords = ["const", "let", "var", "function", "return", "if", "else", "for", "while", "of", "in", "new", "true", "false", "null", "undefined", "try", "catch", "throw", "class"];
    private static readonly string[] CsKeywords = ["var", "new", "return", "if", "else", "for", "foreach", "while", "in", "true", "false", "null", "try", "catch", "throw", "class", "record", "int", "string", "double", "void", "bool", "byte"];

    private readonly ReplSession _session;
    private readonly IAnsiConsole _console;
    private readonly string _historyFile;
    private readonly List<string> _history = new();
    private readonly HistorySearch _search;
    private readonly ReplKeys _keys;
    private readonly List<string> _lines = new(); // the lines of the input before the one being edited
    private LineEditor? _editor;
    private ScriptLanguage? _highlighted;
    private IHighlighter? _highlighter;

    public ReplLineEditor(ReplSession session, IAnsiConsole console, string? historyFile = null)
    {
        _session = session;
        _console = console;
        _historyFile = historyFile ?? DefaultHistoryFile();
        _search = new HistorySearch(_history);
        _keys = new ReplKeys(console.Input, _search);
        try
        {
            if (File.Exists(_historyFile))
                _history.AddRange(InputFile.ReadText(_historyFile, InputFile.MaxScriptBytes, "history files").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(1000).Select(Unescape));
        }
        catch (InputFileException)
        {
            // a history that is not a regular file, or too large: the session starts without it
        }
    }

    public static bool IsSupported(IAnsiConsole console) => LineEditor.IsSupported(console);

    /// <summary>Prints <paramref name="text"/> on its own line above the prompt, then has the editor redraw the line being edited.</summary>
    public void WriteAbove(string text)
    {
        Console.Out.Write("\r\u001b[2K" + text.Replace("\n", "\r\n") + "\r\n");
        Console.Out.Flush();
        _keys.Inject(ReplKeys.Redraw);
    }

    public static string DefaultHistoryFile()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "nicscript", "repl_history");
    }

    /// <summary>The interactive session: reads an input, runs it, until <c>.exit</c> or Ctrl+D on an empty line.</summary>
    /// <remarks>Bracketed paste is on while it runs (<c>ESC[?2004h</c>), so the terminal marks what is pasted.</remarks>
    public void Run()
    {
        _session.AboveThePrompt = WriteAbove;
        _console.WriteAnsi("\u001b[?2004h");
        try
        {
            while (!_session.ExitRequested)
            {
                _session.FlushBackground();
                _session.Editing = true;
                string? text = ReadAsync(CancellationToken.None).GetAwaiter().GetResult();
                _session.Editing = false;
                _session.FlushBackground();
                if (text is null) break;
                _session.Submit(text);
            }
        }
        finally
        {
            _session.AboveThePrompt = null;
            _console.WriteAnsi("\u001b[?2004l");
        }
    }

    /// <summary>Reads one complete input; null at end of input (Ctrl+D on an empty line).</summary>
    /// <remarks>One editor serves the whole session: the keys it has read past an Enter (a paste, fast typing) are the
    /// next input's.</remarks>
    public async Task<string?> ReadAsync(CancellationToken cancel)
    {
        _editor ??= NewEditor();
        _lines.Clear();
        _highlighter = null; // the variables defined since the last input are coloured too
        string? text = await _editor.ReadLine(cancel);
        if (text is null) return null;
        text = text.Replace("\r\n", "\n");
        if (text.Trim().Length > 0)
        {
            _history.Add(text);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(_historyFile)!);
                File.AppendAllLines(_historyFile, [Escape(text)]);
            }
            catch (IOException)
            {
            }
        }
        return text;
    }

    private LineEditor NewEditor()
    {
        var editor = new LineEditor(_console, _keys)
        {
            MultiLine = true,
            Prompt = new Prompt(_session, _search),
            Highlighter = new SessionHighlighter(this),
        };
        foreach (string h in _history) editor.History.Add(h);
        editor.KeyBindings.Remove(ConsoleKey.Enter, null);
        editor.KeyBindings.Remove(ConsoleKey.Enter, ConsoleModifiers.Shift);
        editor.KeyBindings.Add(ConsoleKey.Enter, () => new SmartEnter(_lines, _session));
        editor.KeyBindings.Add(ConsoleKey.Enter, default(ConsoleModifiers), () => new SmartEnter(_lines, _session));
        editor.KeyBindings.Add(ConsoleKey.R, ConsoleModifiers.Control, () => new OpenSearch(_search));
        editor.KeyBindings.Add(ConsoleKey.F23, default(ConsoleModifiers), () => new SearchStep(_search));
        editor.KeyBindings.Add(ConsoleKey.F24, default(ConsoleModifiers), () => new Redraw());
        editor.KeyBindings.Add(ConsoleKey.D, ConsoleModifiers.Control, () => new EndOfInput(_lines));
        editor.KeyBindings.Remove(ConsoleKey.Tab, null);
        editor.KeyBindings.Remove(ConsoleKey.Tab, ConsoleModifiers.Control);
        editor.KeyBindings.Add(ConsoleKey.Tab, default(ConsoleModifiers), () => new CompleteWord(_session, _console));
        return editor;
    }

    /// <summary>The current language's keywords and the session's globals, rebuilt when the language changes.</summary>
    private sealed class SessionHighlighter(ReplLineEditor owner) : IHighlighter
    {
        public Style? Highlight(string token)
        {
            if (owner._highlighted != owner._session.Language || owner._highlighter is null)
            {
                owner._highlighted = owner._session.Language;
                owner._highlighter = owner.Highlighter(owner._session.Language == ScriptLanguage.JavaScript);
            }
            return owner._highlighter.Highlight(token);
        }
    }

    /// <summary><c>js&gt;</c> or <c>cs&gt;</c> as the session's language is, <c>...</c> on continued lines, and the search
    /// while Ctrl+R is open.</summary>
    private sealed class Prompt(ReplSession session, HistorySearch search) : ILineEditorPrompt
    {
        public (Markup Markup, int Margin) GetPrompt(ILineEditorState state, int line)
        {
            if (search.Prompt is { } searching) return (new Markup(Markup.Escape(searching), new Style(Color.Yellow)), 1);
            if (line > 0) return (new Markup("[grey]...[/]"), 1);
            return (new Markup(session.Language == ScriptLanguage.JavaScript ? "[green]js>[/]" : "[green]cs>[/]"), 1);
        }
    }

    private IHighlighter Highlighter(bool js)
    {
        var h = new WordHighlighter();
        foreach (string k in js ? JsKeywords : CsKeywords) h.AddWord(k, new Style(Color.Blue));
        foreach (string g in _session.Complete("")) h.AddWord(g, new Style(Color.Green));
        return h;
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string Unescape(string s) => s.Replace("\\n", "\n").Replace("\\\\", "\\");

    /// <summary>Does nothing; the editor redraws the line after every command.</summary>
    private sealed class Redraw : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
        }
    }

    /// <summary>Enter submits a complete input and starts a new line inside an unfinished one.</summary>
    /// <remarks>RadLine does not show a command the lines above the current one, so the editor keeps them (<paramref name="lines"/>).</remarks>
    private sealed class SmartEnter(List<string> lines, ReplSession session) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            string current = context.Buffer.Content;
            string text = lines.Count == 0 ? current : string.Join("\n", lines) + "\n" + current;
            if (session.IsIncomplete(text))
            {
                lines.Add(current);
                context.Submit(SubmitAction.NewLine);
            }
            else
            {
                context.Submit(SubmitAction.Submit);
            }
        }
    }

    /// <summary>Ctrl+D on an empty input ends the session, as in a shell.</summary>
    private sealed class EndOfInput(List<string> lines) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            if (lines.Count == 0 && context.Buffer.Length == 0) context.Submit(SubmitAction.Cancel);
        }
    }

    /// <summary>Ctrl+R: opens the history search on the line as typed.</summary>
    private sealed class OpenSearch(HistorySearch search) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context) => SearchStep.Apply(search, search.Open(context.Buffer.Content), context.Buffer);
    }

    /// <summary>One key of an open history search, applied in its turn.</summary>
    private sealed class SearchStep(HistorySearch search) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            if (search.TryNext(out HistorySearch.Step step)) Apply(search, step, context.Buffer);
        }

        public static void Apply(HistorySearch search, HistorySearch.Step step, LineBuffer buffer)
        {
            string? line = step.Restore ? search.Original : step.Match?.Replace('\n', ' ');
            search.Prompt = step.Closed ? null : $"({(step.Failing ? "failing " : "")}reverse-i-search)'{step.Query}':";
            if (line is null) return;
            buffer.Move(0);
            buffer.Clear(0, buffer.Length);
            buffer.Insert(line);
            buffer.Move(line.Length);
        }
    }

    /// <summary>Tab: completes the word before the cursor from the session's candidates — the whole word when there is one,
    /// the longest common prefix when there are several; when that adds nothing, the candidates are listed under the line.</summary>
    private sealed class CompleteWord(ReplSession session, IAnsiConsole console) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            string line = context.Buffer.Content[..context.Buffer.Position];
            string dotted = ReplSession.WordBefore(line);
            if (line.TrimStart().StartsWith('.') && !line.Contains(' ')) dotted = line.TrimStart();
            IReadOnlyList<string> candidates = session.Complete(line);
            if (candidates.Count == 0) return;
            string common = candidates[0];
            foreach (string c in candidates)
            {
                int n = 0;
                while (n < common.Length && n < c.Length && common[n] == c[n]) n++;
                common = common[..n];
            }
            if (common.Length > dotted.Length && common.StartsWith(dotted, StringComparison.Ordinal))
            {
                string rest = common[dotted.Length..];
                int at = context.Buffer.Position;
                context.Buffer.Insert(rest);
                context.Buffer.Move(at + rest.Length); // Insert leaves the cursor where it was
                return;
            }
            if (candidates.Count > 1) console.WriteAnsi("\r\n" + Columns(candidates, console.Profile.Width).Replace("\n", "\r\n") + "\r\n");
        }

        /// <summary>The candidates' last names (after the dot) in columns that fit <paramref name="width"/>.</summary>
        private static string Columns(IReadOnlyList<string> candidates, int width)
        {
            string[] names = candidates.Select(c => c[(c.LastIndexOf('.') + 1)..] is { Length: > 0 } n ? n : c).ToArray();
            int cell = names.Max(n => n.Length) + 2;
            int perRow = Math.Max(1, (Math.Max(width, cell) - 1) / cell);
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < names.Length; i++)
            {
                sb.Append(i % perRow == perRow - 1 || i == names.Length - 1 ? names[i] : names[i].PadRight(cell));
                if (i % perRow == perRow - 1 && i < names.Length - 1) sb.Append('\n');
            }
            return sb.ToString();
        }
    }
}
