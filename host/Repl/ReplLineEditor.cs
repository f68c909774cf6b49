using NicScript.Host.Manifests;
using RadLine;
using Spectre.Console;

namespace NicScript.Host.Repl;

/// <summary>The interactive prompt: RadLine with history kept across sessions, Ctrl+R reverse search, keyword colouring,
/// Tab completion from the session's object model, and Enter that only submits a complete input.</summary>
public sealed class ReplLineEditor
{
    private static readonly string[] JsKeywords = ["const", "let", "var", "function", "return", "if", "else", "for", "while", "of", "in", "new", "true", "false", "null", "undefined", "try", "catch", "throw", "class"];
    private static readonly string[] CsKeywords = ["var", "new", "return", "if", "else", "for", "foreach", "while", "in", "true", "false", "null", "try", "catch", "throw", "class", "record", "int", "string", "double", "void", "bool", "byte"];

    private readonly ReplSession _session;
    private readonly IAnsiConsole _console;
    private readonly string _historyFile;
    private readonly List<string> _history = new();

    public ReplLineEditor(ReplSession session, IAnsiConsole console, string? historyFile = null)
    {
        _session = session;
        _console = console;
        _historyFile = historyFile ?? DefaultHistoryFile();
        try
        {
            if (File.Exists(_historyFile)) _history.AddRange(File.ReadAllLines(_historyFile).TakeLast(1000).Select(Unescape));
        }
        catch (IOException)
        {
        }
    }

    public static bool IsSupported(IAnsiConsole console) => LineEditor.IsSupported(console);

    public static string DefaultHistoryFile()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "nicscript", "repl_history");
    }

    /// <summary>Reads one complete input; null at end of input (Ctrl+D on an empty line).</summary>
    public async Task<string?> ReadAsync(CancellationToken cancel)
    {
        bool js = _session.Language == ScriptLanguage.JavaScript;
        var editor = new LineEditor(_console)
        {
            MultiLine = true,
            Prompt = new LineEditorPrompt(js ? "[green]js>[/]" : "[green]cs>[/]", "[grey]...[/]"),
            Highlighter = Highlighter(js),
        };
        foreach (string h in _history) editor.History.Add(h);
        editor.KeyBindings.Remove(ConsoleKey.Enter, null);
        editor.KeyBindings.Remove(ConsoleKey.Enter, ConsoleModifiers.Shift);
        editor.KeyBindings.Add(ConsoleKey.Enter, () => new SmartEnter(editor, _session));
        editor.KeyBindings.Add(ConsoleKey.Enter, default(ConsoleModifiers), () => new SmartEnter(editor, _session));
        editor.KeyBindings.Add(ConsoleKey.R, ConsoleModifiers.Control, () => new ReverseSearch(_history));
        editor.KeyBindings.Remove(ConsoleKey.Tab, null);
        editor.KeyBindings.Add(ConsoleKey.Tab, default(ConsoleModifiers), () => new CompleteWord(_session));
        string? text = await editor.ReadLine(cancel);
        if (text is null) return null;
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

    private IHighlighter Highlighter(bool js)
    {
        var h = new WordHighlighter();
        foreach (string k in js ? JsKeywords : CsKeywords) h.AddWord(k, new Style(Color.Blue));
        foreach (string g in _session.Complete("")) h.AddWord(g, new Style(Color.Green));
        return h;
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string Unescape(string s) => s.Replace("\\n", "\n").Replace("\\\\", "\\");

    /// <summary>Enter submits a complete input and starts a new line inside an unfinished one.</summary>
    private sealed class SmartEnter(LineEditor editor, ReplSession session) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            // editor.Text holds the lines before this one; the current line is the context's buffer.
            string text = editor.Text.Length == 0 ? context.Buffer.Content : editor.Text + "\n" + context.Buffer.Content;
            context.Submit(session.IsIncomplete(text) ? SubmitAction.NewLine : SubmitAction.Submit);
        }
    }

    /// <summary>Ctrl+R: replaces the line with the latest history entry containing it; again for the one before.</summary>
    private sealed class ReverseSearch(List<string> history) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            string query = context.GetState("search", () => context.Buffer.Content);
            int from = context.GetState("search-at", () => history.Count);
            for (int i = from - 1; i >= 0; i--)
            {
                if (!history[i].Contains(query, StringComparison.Ordinal)) continue;
                context.SetState("search", query);
                context.SetState("search-at", i);
                context.Buffer.Clear(0, context.Buffer.Length);
                context.Buffer.Insert(history[i].Replace('\n', ' '));
                return;
            }
        }
    }

    /// <summary>Tab: completes the word before the cursor from the session's candidates — the whole word when there is one,
    /// the longest common prefix when there are several (pressed again, it shows them).</summary>
    private sealed class CompleteWord(ReplSession session) : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
            string line = context.Buffer.Content[..context.Buffer.Position];
            string dotted = new string(line.Reverse().TakeWhile(c => char.IsLetterOrDigit(c) || c is '_' or '.' || (c == '.' && line.StartsWith('.'))).Reverse().ToArray());
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
            if (common.Length <= dotted.Length || !common.StartsWith(dotted, StringComparison.Ordinal)) return;
            string rest = common[dotted.Length..];
            int at = context.Buffer.Position;
            context.Buffer.Insert(rest);
            context.Buffer.Move(at + rest.Length); // Insert leaves the cursor where it was
        }
    }
}
