using System.Diagnostics;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary>Output fits where it goes: plain columns without colour in a pipe, <c>--color</c> and <c>NO_COLOR</c> obeyed,
/// fitted tables on a terminal, log lines that name their source.</summary>
public sealed class OutputStyleTests : IDisposable
{
    private const char Esc = '\u001b';
    private static readonly string WideResult = string.Concat(Enumerable.Range(0, 30).Select(i => $"field{i:00}=ok ")).TrimEnd(); // 299 characters

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A V-Node whose result is far wider than any terminal, with two metrics and a warning in its log.</summary>
    private string WideManifest()
    {
        _dir.Write("main.js", $$"""
            metrics.inc("packets_rx", 3);
            log.warn("disk {Name} is slow", "vda");
            "{{WideResult}}";
            """);
        return _dir.Write("wide.yml", TestVNode.Manifest("wide", "  - CAP_LOG_WRITE"));
    }

    private static bool HasBoxDrawing(string text) => text.Any(c => c is >= '\u2500' and <= '\u257f');

    private static Dictionary<string, string> Env(string? noColor) => new() { ["NO_COLOR"] = noColor ?? "" }; // empty: not set (no-color.org)

    [Fact]
    public void Run_InAPipe_PrintsPlainColumns_NoEscapes_NoBoxDrawing_WideRowOnOneLine()
    {
        var (exit, output, error) = NicscriptProcess.RunWith(Env(null), _dir.Path, null, TimeSpan.FromMinutes(3), "run", WideManifest());
        Assert.True(exit == 0, error);
        Assert.DoesNotContain(Esc, output);
        Assert.DoesNotContain(Esc, error);
        Assert.False(HasBoxDrawing(output), output);
        string[] lines = output.Split('\n');
        string header = Assert.Single(lines, l => l.StartsWith("V-Node", StringComparison.Ordinal));
        Assert.Matches(@"^V-Node  +status  +result  +handler calls  +metrics$", header);
        string row = Assert.Single(lines, l => l.StartsWith("wide ", StringComparison.Ordinal) && !l.EndsWith(" ms)", StringComparison.Ordinal)); // not the title "wide (N ms)"
        Assert.Contains(WideResult, row); // the whole result on the row's line: nothing wrapped at 80 columns
        Assert.Matches(@"completed +field00=ok .* field29=ok +\d+ +packets_rx: 3, latency_ns: -$", row); // several metrics on one line
        Assert.Equal(header.IndexOf("status", StringComparison.Ordinal), row.IndexOf("completed", StringComparison.Ordinal)); // aligned
    }

    [Fact]
    public void Run_ColorAlways_InAPipe_ColoursResultsAndLogLines_StillPlainColumns()
    {
        var (exit, output, error) = NicscriptProcess.RunWith(Env("1"), _dir.Path, null, TimeSpan.FromMinutes(3), "run", WideManifest(), "--color", "always");
        Assert.True(exit == 0, error);
        Assert.Contains($"{Esc}[32mcompleted{Esc}[0m", output); // an explicit --color always beats NO_COLOR
        Assert.Contains($"{Esc}[33mWRN{Esc}[0m [wide] disk vda is slow", error);
        Assert.False(HasBoxDrawing(output), output);
        Assert.Contains(WideResult, output.Split('\n').Single(l => l.Contains("completed", StringComparison.Ordinal)));
    }

    [Fact]
    public void Run_ColorNever_OnlyPlainText()
    {
        var (exit, output, error) = NicscriptProcess.RunWith(Env(null), _dir.Path, null, TimeSpan.FromMinutes(3), "run", WideManifest(), "--color=never");
        Assert.True(exit == 0, error);
        Assert.DoesNotContain(Esc, output + error);
        Assert.Contains("WRN [wide] disk vda is slow", error);
    }

    [Theory]
    [InlineData(ColorMode.Auto, null, true, true)]
    [InlineData(ColorMode.Auto, "1", true, false)]      // NO_COLOR on a terminal: no colour
    [InlineData(ColorMode.Auto, "", true, true)]        // NO_COLOR empty counts as not set
    [InlineData(ColorMode.Auto, null, false, false)]    // a pipe: no colour
    [InlineData(ColorMode.Always, "1", false, true)]
    [InlineData(ColorMode.Never, null, true, false)]
    public void Detect_ColourFollowsTheOptionNoColorAndTheTerminal(ColorMode mode, string? noColor, bool terminal, bool color)
    {
        OutputStyle style = OutputStyle.Detect(mode, noColor, stdoutTerminal: terminal, stderrTerminal: terminal);
        Assert.Equal((terminal, color, color), (style.Terminal, style.Color, style.LogColor));
    }

    [Theory]
    [InlineData(new[] { "run", "x.yml", "--color", "never" }, ColorMode.Never)]
    [InlineData(new[] { "--color=always", "run", "x.yml" }, ColorMode.Always)]
    [InlineData(new[] { "run", "x.yml", "--color", "always", "--color", "never" }, ColorMode.Never)] // the last one wins
    [InlineData(new[] { "run", "--", "--color", "never" }, ColorMode.Auto)]
    [InlineData(new[] { "run", "--color", "pink" }, ColorMode.Auto)]
    public void ModeFrom_ReadsTheOptionBeforeParsing(string[] args, ColorMode expected) => Assert.Equal(expected, OutputStyle.ModeFrom(args));

    [Fact]
    public void ColorOption_BadValue_IsAUserError()
    {
        var (exit, _, error) = NicscriptProcess.Run(_dir.Path, null, TimeSpan.FromMinutes(2), "check", "x.yml", "--color", "pink");
        Assert.Equal(1, exit);
        Assert.Contains("pink", error);
    }

    [Fact]
    public void ResultTable_Lines_AlignColumns_JoinCellLines_KeepStylesOnlyWithColour()
    {
        var table = new ResultTable("name", "state", "notes") { Title = "[bold]t[/]" };
        table.AddRow("a", "[red]failed[/]", "x: 1\ny: 2");
        table.AddRow("longer-name", "ok", Markup.Escape("[literal]"));
        Assert.Equal(["t", "name         state   notes", "a            failed  x: 1, y: 2", "longer-name  ok      [literal]"], table.Lines(color: false));
        Assert.Equal("a            [red]failed[/]  x: 1, y: 2", table.Lines(color: true).ElementAt(2));
    }

    [Fact]
    public async Task DpuAgentLogLines_NameTheAgent_NeverAnEmptyBracket()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new CliContext(console, output, error), ["run", Path.Combine(Repo.Root, "manifests", "dpu-provision.yml"), "--cache", _dir.File("cache")]);
        string log = error.ToString();
        Assert.True(exit == 0, log);
        Assert.Contains(" INF [dpu-agent] dpu NewPort uuid=web → OK", log);
        Assert.Contains(" INF [dpu-provision] ", log);
        Assert.DoesNotContain("[]", log);
    }

    /// <summary>On a real terminal (tmux, 100 columns): a table with borders that fits the width, with colour; with
    /// NO_COLOR the same table in ASCII and no escape sequence at all.</summary>
    [SkippableFact]
    public void Run_OnATerminal_TableFitsTheWidth_ColourUnlessNoColor()
    {
        Skip.If(NicScript.Host.Tests.EndToEnd.NetNamespace.Which("tmux") is null, "needs tmux (.ci/run installs it)");
        string manifest = WideManifest();
        string coloured = OnTerminal($"env -u NO_COLOR dotnet {Nicscript} run {manifest}");
        Assert.Contains(Esc, coloured);
        string plain = Strip(coloured);
        string top = Assert.Single(plain.Split('\n'), l => l.Contains('╭'));
        Assert.EndsWith("╮", top.TrimEnd()); // the whole border on one screen line: the table is not wider than the terminal
        Assert.True(top.TrimEnd().Length <= 100, top);
        Assert.Contains("field29=ok", plain); // the wide result wrapped inside its cell, not lost

        string noColor = OnTerminal($"env NO_COLOR=1 dotnet {Nicscript} run {manifest}");
        Assert.DoesNotContain(Esc, noColor);
        Assert.False(HasBoxDrawing(noColor), noColor);
        Assert.Contains("+--", noColor);
        Assert.Contains("completed", noColor);
    }

    private static string Nicscript => Path.Combine(AppContext.BaseDirectory, "nicscript.dll");

    /// <summary>Runs <paramref name="command"/> in a fresh 100x50 tmux pane and returns the screen with its escape sequences
    /// (<c>capture-pane -e</c>) once the command has ended.</summary>
    private string OnTerminal(string command)
    {
        string session = "nsout" + Guid.NewGuid().ToString("n")[..6];
        string done = _dir.File(session + ".done");
        Tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "50", $"NICSCRIPT_CACHE={_dir.File("cache")} {command}; touch {done}; sleep 600");
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(done) && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(200); // a hang guard, not a measure
            Assert.True(File.Exists(done), "the run did not end on the terminal");
            return Tmux("capture-pane", "-t", session, "-p", "-e");
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }

    private static string Strip(string screen) => System.Text.RegularExpressions.Regex.Replace(screen, "\u001b\\[[0-9;]*m", "");

    private static string Tmux(params string[] args) => Repl.ReplTerminalTests.Tmux(args);
}
