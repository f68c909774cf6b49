using NicScript.Driver;
using NicScript.Host.Manifests;
using NicScript.Host.Repl;
using Serilog;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NicScript.Host.Tests.Repl;

/// <summary>The interactive REPL fed key sequences as a terminal sends them (a burst, a bracketed paste, Tab, Ctrl+R):
/// what it evaluates is what the session prints, what it shows is what the editor writes.</summary>
public sealed class ReplLineEditorTests : IDisposable
{
    private const string Esc = "\u001b";
    private const string CtrlD = "\u0004";
    private const string CtrlR = "\u0012";
    private const string CtrlG = "\u0007";
    private const string PasteStart = Esc + "[200~";
    private const string PasteEnd = Esc + "[201~";

    private readonly TempDir _dir = new();
    private readonly Machine _machine = DefaultMachine.Create();

    public void Dispose()
    {
        _machine.Dispose();
        _dir.Dispose();
    }

    /// <summary>Types <paramref name="keys"/> (all available at once, as a burst or a paste is) into an interactive
    /// session, then Ctrl+D; returns the results printed, one per line, and everything the editor drew.</summary>
    private (string[] Results, string Screen) Type(ScriptLanguage language, params string[] keys)
    {
        var results = new StringWriter();
        var screen = new StringWriter();
        using var session = new ReplSession(_machine, ReplSession.GrantEverything(_machine), language, results, new LoggerConfiguration().CreateLogger());
        var console = new ScriptedTerminal(screen, string.Concat(keys) + CtrlD);
        var editor = new ReplLineEditor(session, console, _dir.File("history"));
        Task run = Task.Run(editor.Run);
        Assert.True(run.Wait(TimeSpan.FromMinutes(3)), "the REPL did not finish the keys (hang guard)");
        return (results.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToArray(), screen.ToString());
    }

    [Theory]
    [InlineData(ScriptLanguage.JavaScript)]
    [InlineData(ScriptLanguage.CSharp)]
    public void Burst_WithEnterInside_RunsEachLine(ScriptLanguage language) =>
        Assert.Equal(["11", "22"], Type(language, "10+1\r20+2\r").Results);

    [Fact]
    public void BracketedPaste_EachLineRunsAsItCompletes_AndTheRestStaysOnTheLine()
    {
        string pasted = "function twice(x) {\n\treturn x * 2;\n}\ntwice(21)\n10+1\r\n20+";
        Assert.Equal(["42", "11", "22"], Type(ScriptLanguage.JavaScript, PasteStart, pasted, PasteEnd, "2\r").Results);
    }

    [Fact]
    public void BracketedPaste_TabInside_IsSpacesNotCompletion() =>
        // typed, Tab after "dm" would complete it to "dma"
        Assert.Equal(["dm    !"], Type(ScriptLanguage.JavaScript, PasteStart, "'dm\t!'", PasteEnd, "\r").Results);

    [Fact]
    public void Tab_CompletesMembersOfJavaScriptVariables()
    {
        var (results, _) = Type(ScriptLanguage.JavaScript,
            "const nic = net.open(\"00:1f.0\").up()\r", "nic.ma\t\r",
            "const b = nic.burst()\r", "typeof b.ta\t\r");
        Assert.Equal(["52:54:00:12:34:56", "function"], results);
    }

    [Fact]
    public void Tab_CompletesMembersOfCSharpVariables()
    {
        var (results, _) = Type(ScriptLanguage.CSharp, "var nic = Net.Open(\"00:1f.0\").Up();\r", "nic.Ma\t\r");
        Assert.Equal(["52:54:00:12:34:56"], results);
    }

    [Theory]
    [InlineData(ScriptLanguage.JavaScript, "net.", new[] { "open", "queue", "device", "emulator" })]
    [InlineData(ScriptLanguage.CSharp, "Net.", new[] { "Open", "Queue", "Device", "Emulator" })]
    public void Tab_WithSeveralCandidates_ListsThem(ScriptLanguage language, string typed, string[] expected)
    {
        var (_, screen) = Type(language, typed, "\t", new string('\b', typed.Length));
        string[] listed = screen.Split('\n').SkipWhile(l => !l.Contains(typed)).Skip(1)
            .SelectMany(l => l.Split([' ', '\r'], StringSplitOptions.RemoveEmptyEntries)).ToArray();
        foreach (string name in expected) Assert.Contains(name, listed);
    }

    [Fact]
    public void CtrlR_FindsASubstring_AgainForOlder_EnterRunsIt()
    {
        string[] inputs = ["'first ' + 1\r", "'second ' + 2\r", "'third ' + 3\r"];
        // "ir" is inside "first" and "third" (not at their start); the newest first, Ctrl+R again for the older one
        Assert.Equal(["first 1", "second 2", "third 3", "third 3"], Type(ScriptLanguage.JavaScript, [.. inputs, CtrlR, "ir\r"]).Results);
        Assert.Equal(["first 1", "second 2", "third 3", "first 1"], Type(ScriptLanguage.JavaScript, [.. inputs, CtrlR, "ir", CtrlR, "\r"]).Results);
        Assert.Equal(["first 1", "second 2", "third 3", "second 2"], Type(ScriptLanguage.JavaScript, [.. inputs, "cond", CtrlR, "\r"]).Results);
    }

    [Theory]
    [InlineData(Esc)]
    [InlineData(CtrlG)]
    public void CtrlR_Cancelled_PutsTheLineBack(string cancel)
    {
        var (results, screen) = Type(ScriptLanguage.JavaScript, "'first ' + 1\r", "6*", CtrlR, "fir", cancel, "7\r");
        Assert.Equal(["first 1", "42"], results);
        Assert.Contains("reverse-i-search)'6*fir'", screen.Replace("(failing ", "("));
    }

    /// <summary>A terminal whose keys are typed in advance (as .NET reads them: an escape sequence it does not know
    /// comes as Escape and then its characters) and whose screen is a writer.</summary>
    private sealed class ScriptedTerminal : IAnsiConsole, IAnsiConsoleInput
    {
        private readonly IAnsiConsole _console;
        private readonly Queue<ConsoleKeyInfo> _keys;

        public ScriptedTerminal(TextWriter screen, string keys)
        {
            _console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.Yes,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.Yes,
                Out = new AnsiConsoleOutput(screen),
            });
            _console.Profile.Width = 100;
            _keys = new Queue<ConsoleKeyInfo>(keys.Select(Key));
        }

        private static ConsoleKeyInfo Key(char c) => c switch
        {
            '\r' or '\n' => new ConsoleKeyInfo(c, ConsoleKey.Enter, false, false, false),
            '\t' => new ConsoleKeyInfo(c, ConsoleKey.Tab, false, false, false),
            '\b' => new ConsoleKeyInfo(c, ConsoleKey.Backspace, false, false, false),
            '\u001b' => new ConsoleKeyInfo(c, ConsoleKey.Escape, false, false, false),
            < ' ' => new ConsoleKeyInfo(c, ConsoleKey.A + c - 1, false, false, true),
            >= 'a' and <= 'z' => new ConsoleKeyInfo(c, ConsoleKey.A + (c - 'a'), false, false, false),
            _ => new ConsoleKeyInfo(c, ConsoleKey.NoName, false, false, false),
        };

        public Profile Profile => _console.Profile;
        public IAnsiConsoleCursor Cursor => _console.Cursor;
        public IAnsiConsoleInput Input => this;
        public IExclusivityMode ExclusivityMode => _console.ExclusivityMode;
        public RenderPipeline Pipeline => _console.Pipeline;
        public void Clear(bool home) => _console.Clear(home);
        public void Write(IRenderable renderable) => _console.Write(renderable);

        public bool IsKeyAvailable()
        {
            lock (_keys) return _keys.Count > 0;
        }

        public ConsoleKeyInfo? ReadKey(bool intercept)
        {
            lock (_keys) return _keys.Count > 0 ? _keys.Dequeue() : null;
        }

        public Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken) => Task.FromResult(ReadKey(intercept));
    }
}
