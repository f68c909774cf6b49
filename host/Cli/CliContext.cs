using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Spectre.Console;

namespace NicScript.Host.Cli;

/// <summary>What every command gets: the consoles it writes to and how to make its logger.</summary>
/// <remarks>The console is a parameter (STYLE §2.2): tests pass recording consoles and read what a user would see.</remarks>
public sealed class CliContext
{
    public CliContext(IAnsiConsole output, TextWriter outputText, TextWriter error, TextReader? input = null)
    {
        Input = input ?? Console.In;
        Output = output;
        OutputText = outputText;
        Error = error;
    }

    /// <summary>Standard input, for batch modes that read lines (<c>gdma decode --jsonl</c>).</summary>
    public TextReader Input { get; }

    /// <summary>Results for people: tables and summaries.</summary>
    public IAnsiConsole Output { get; }

    /// <summary>Results for programs (JSON), written as-is: never wrapped or styled.</summary>
    public TextWriter OutputText { get; }

    /// <summary>Logs and error lines, so that <c>--json</c> output stays clean on stdout.</summary>
    public TextWriter Error { get; }

    /// <summary>A logger writing to <see cref="Error"/> at <paramref name="level"/>, and compact JSON to <paramref name="logFile"/> if given.</summary>
    public Logger CreateLogger(LogEventLevel level, string? logFile)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .Enrich.FromLogContext()
            .WriteTo.Sink(new TextWriterSink(Error, "{Timestamp:HH:mm:ss.fff} {Level:u3} [{VNode}] {Message:lj}{NewLine}{Exception}"));
        if (logFile is not null) config = config.WriteTo.File(new CompactJsonFormatter(), logFile, restrictedToMinimumLevel: LogEventLevel.Verbose);
        return config.CreateLogger();
    }
}
