using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using NicScript.Host.Cli;

namespace NicScript.Host;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        InheritedSignals.RestoreStopSignals();
        var cli = CliContext.ForProcess(OutputStyle.ModeFrom(args)); // the console exists before parsing: --color is read ahead
        return await RunAsync(cli, args);
    }

    /// <summary>The exit code of a command the user stopped with Ctrl+C (SIGINT): 128 + 2, what shells report for it.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>The exit code of a command stopped by SIGTERM (a service manager, <c>kill</c>): 128 + 15.</summary>
    public const int TerminatedExitCode = 143;

    /// <summary>Parses and runs one command line; a user's mistake is one line and exit 1, our bug keeps its stack.</summary>
    /// <remarks>
    /// Design: Ctrl+C is the user stopping the command, not a failure: the first one (or SIGTERM) cancels the command's token, the
    /// command stops its work cleanly (a run stops its V-Nodes and still prints its report) and the process exits with
    /// <see cref="InterruptedExitCode"/> (<see cref="TerminatedExitCode"/> for SIGTERM). A second signal while that stop hangs
    /// ends the process at once, as shells expect.
    /// </remarks>
    public static async Task<int> RunAsync(CliContext cli, string[] args)
    {
        bool verbose = args.Contains("--verbose");
        RootCommand root = CommandLine.Build(cli);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0 && !args.Any(a => a is "-h" or "-?" or "--help"))
            return ParseFailed(cli, parse);
        try
        {
            // System.CommandLine's own signal handling is off: it would end the process after a timeout with its own code.
            var config = new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = cli.OutputText, Error = cli.Error,
            };
            using var cancel = new CancellationTokenSource();
            int signalled = 0;
            // Only a command that takes the token can stop cleanly; the others (check, bench, gdma …) end at once, the
            // signal's default, except the REPL, which keeps Ctrl+C from ending the session (as it always did).
            bool stoppable = parse.Action is AsynchronousCommandLineAction;
            bool repl = parse.CommandResult.Command.Name == "repl";
            void OnSignal(PosixSignalContext s)
            {
                if (repl && s.Signal == PosixSignal.SIGINT)
                {
                    s.Cancel = true;
                    return;
                }
                if (!stoppable) return;
                if (Interlocked.CompareExchange(ref signalled, s.Signal == PosixSignal.SIGTERM ? TerminatedExitCode : InterruptedExitCode, 0) != 0)
                    return; // the second signal ends the process at once (the default action)
                s.Cancel = true;
                cancel.Cancel();
            }
            using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            try
            {
                int exit = await parse.InvokeAsync(config, cancel.Token);
                return signalled != 0 ? Stopped() : exit;
            }
            catch (OperationCanceledException) when (signalled != 0)
            {
                return Stopped();
            }

            int Stopped()
            {
                cli.Error.WriteLine(signalled == TerminatedExitCode ? "nicscript: stopped (SIGTERM)" : "nicscript: interrupted (Ctrl+C)");
                return signalled;
            }
        }
        catch (UserErrorException e)
        {
            cli.Error.WriteLine(e.Message);
            if (verbose) cli.Error.WriteLine(e.ToString());
            return 1;
        }
        catch (Exception e)
        {
            cli.Error.WriteLine($"internal error (a NicScript bug, not your mistake): {e}");
            return 2;
        }
    }

    /// <summary>A command line that does not parse (a bad option value, an unknown option, a missing argument): the
    /// problem in one line and where to read more, exit 1.</summary>
    /// <remarks>
    /// Design: System.CommandLine's own answer prints the whole help (~40 lines) under the error, which hides the one line
    /// that matters; every command gets this instead. "Required command was not provided" is left out when a more precise
    /// error explains it (an unknown command is both). A bare <c>nicscript</c> still prints the help.
    /// </remarks>
    private static int ParseFailed(CliContext cli, ParseResult parse)
    {
        var messages = parse.Errors.Select(e => e.Message).Distinct().ToList();
        if (messages.Count > 1) messages.RemoveAll(m => m.StartsWith("Required command was not provided", StringComparison.Ordinal));
        foreach (string message in messages) cli.Error.WriteLine($"error: {message}");
        var path = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is not null; r = r.Parent)
            if (r is CommandResult c) path.Insert(0, c.Command is RootCommand ? "nicscript" : c.Command.Name);
        cli.Error.WriteLine($"see {string.Join(' ', path)} --help");
        return 1;
    }
}
