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
            if (File.Exists(_historyFile))
                _history.AddRange(InputFile.ReadText(_historyFile, InputFile.MaxScriptBytes, "history files").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(1000).Select(Unescape));
        }
        catch (InputFileException)
        {
            // a history that is not a regular file, or too large: the session starts without it
        }
    }

    public static bool IsSupported(IAnsiConsole console) => LineEditor.IsSupported(console);

    private InjectingInput? _input;

    /// <summary>Prints <paramref name="text"/> on its own line above the prompt, then has the editor redraw the line being edited.</summary>
    public void WriteAbove(string text)
    {
        Console.Out.Write("\r\u001b[2K" + text.Replace("\n", "\r\n") + "\r\n");
        Console.Out.Flush();
        _input?.Inject(new ConsoleKeyInfo('\0', ConsoleKey.F24, false, false, false)); // a key bound to nothing but a redraw
    }

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
        _input ??= new InjectingInput(_console);
        var editor = new LineEditor(_console, _input)
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
        editor.KeyBindings.Add(ConsoleKey.F24, default(ConsoleModifiers), () => new Redraw());
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

    /// <summary>Does nothing; the editor redraws the line after every command.</summary>
    private sealed class Redraw : LineEditorCommand
    {
        public override void Execute(LineEditorContext context)
        {
        }
    }

    /// <summary>The terminal's keys, plus keys we inject (a redraw after printing above the prompt).</summary>
    private sealed class InjectingInput(IAnsiConsole console) : IInputSource
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<ConsoleKeyInfo> _injected = new();

        public bool ByPassProcessing => false;

        public void Inject(ConsoleKeyInfo key) => _injected.Enqueue(key);

        public bool IsKeyAvailable() => !_injected.IsEmpty || console.Input.IsKeyAvailable();

        public ConsoleKeyInfo ReadKey()
        {
            if (_injected.TryDequeue(out ConsoleKeyInfo key)) return key;
            return console.Input.ReadKey(intercept: true) ?? new ConsoleKeyInfo('\0', ConsoleKey.F24, false, false, false);
        }
    }

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
                string found = history[i].Replace('\n', ' ');
                context.Buffer.Move(0);
                context.Buffer.Clear(0, context.Buffer.Length);
                context.Buffer.Insert(found);
                context.Buffer.Move(found.Length);
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
