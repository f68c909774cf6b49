using System.CommandLine;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var cli = new CliContext(AnsiConsole.Console, Console.Out, Console.Error);
        return await RunAsync(cli, args);
    }

    /// <summary>Parses and runs one command line; a user's mistake is one line and exit 1, our bug keeps its stack.</summary>
    public static async Task<int> RunAsync(CliContext cli, string[] args)
    {
        bool verbose = args.Contains("--verbose");
        RootCommand root = CommandLine.Build(cli);
        ParseResult parse = root.Parse(args);
        try
        {
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = cli.OutputText, Error = cli.Error };
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                return await parse.InvokeAsync(config, cancel.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
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
}
