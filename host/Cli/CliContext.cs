using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Spectre.Console;

namespace NicScript.Host.Cli;

/// <summary>What every command gets: the consoles it writes to, how its output looks there, and how to make its logger.</summary>
/// <remarks>The console is a parameter (STYLE §2.2): tests pass recording consoles and read what a user would see.</remarks>
public sealed class CliContext
{
    /// <summary>The width Spectre gets where there is none (a pipe, a file, a recorder): wide enough that no line is ever wrapped.</summary>
    private const int NoWidth = 1 << 20;

    public CliContext(IAnsiConsole output, TextWriter outputText, TextWriter error, TextReader? input = null, OutputStyle? style = null)
    {
        Input = input ?? Console.In;
        Output = output;
        OutputText = outputText;
        Error = error;
        Style = style ?? OutputStyle.Plain;
        if (!Style.Terminal) output.Profile.Width = NoWidth;
    }

    /// <summary>The context of this process: standard streams, styled as <paramref name="mode"/>, <c>NO_COLOR</c> and the
    /// terminals say (<see cref="OutputStyle.Detect"/>).</summary>
    public static CliContext ForProcess(ColorMode mode)
    {
        var style = OutputStyle.Detect(mode, Environment.GetEnvironmentVariable("NO_COLOR"), !Console.IsOutputRedirected, !Console.IsErrorRedirected);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            // A terminal keeps what Spectre detects (the REPL's line editor needs ANSI cursor control even without colour);
            // without colour the writers below drop styles. Elsewhere ANSI is on only when colour was asked for.
            Ansi = style.Terminal ? AnsiSupport.Detect : style.Color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = !style.Color ? ColorSystemSupport.NoColors : style.Terminal ? ColorSystemSupport.Detect : ColorSystemSupport.Standard,
            Interactive = style.Terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        return new CliContext(console, Console.Out, Console.Error, style: style);
    }

    /// <summary>Standard input, for batch modes that read lines (<c>gdma decode --jsonl</c>).</summary>
    public TextReader Input { get; }

    /// <summary>Results for people: tables and summaries. Write them through <see cref="Write(ResultTable)"/> and
    /// <see cref="MarkupLine"/>, which follow <see cref="Style"/>.</summary>
    public IAnsiConsole Output { get; }

    /// <summary>Results for programs (JSON), written as-is: never wrapped or styled.</summary>
    public TextWriter OutputText { get; }

    /// <summary>Logs and error lines, so that <c>--json</c> output stays clean on stdout.</summary>
    public TextWriter Error { get; }

    /// <summary>Where output goes and whether it gets colour (<c>--color</c>, <c>NO_COLOR</c>, terminal or not).</summary>
    public OutputStyle Style { get; }

    /// <summary>A table of results: fitted with borders on a terminal, plain columns (one line a row) anywhere else.</summary>
    public void Write(ResultTable table)
    {
        if (Style.Terminal)
        {
            Output.Write(table.Boxed(Style.Color));
            return;
        }
        foreach (string line in table.Lines(Style.Color)) WritePlainLine(line);
    }

    /// <summary>A line for people in Spectre markup; its styles are kept only where there is colour.</summary>
    public void MarkupLine(string markup)
    {
        if (Style.Color) Output.MarkupLine(markup);
        else if (Style.Terminal) Output.WriteLine(Markup.Remove(markup));
        else OutputText.WriteLine(Markup.Remove(markup));
    }

    private void WritePlainLine(string line)
    {
        if (Style.Color) Output.MarkupLine(line); // the console has no width here (see the constructor): never wrapped
        else OutputText.WriteLine(line);
    }

    /// <summary>A logger writing to <see cref="Error"/> at <paramref name="level"/>, and compact JSON to <paramref name="logFile"/> if given.</summary>
    public Logger CreateLogger(LogEventLevel level, string? logFile)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .Enrich.FromLogContext()
            .WriteTo.Sink(new TextWriterSink(Error, Style.LogColor));
        if (logFile is not null) config = config.WriteTo.File(new CompactJsonFormatter(), logFile, restrictedToMinimumLevel: LogEventLevel.Verbose);
        return config.CreateLogger();
    }
}
