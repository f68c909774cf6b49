using System.CommandLine;
using NicScript.Driver.Devices;
using NicScript.Host.Guests;
using NicScript.Host.Manifests;
using NicScript.Host.Repl;
using NicScript.Host.Runtime;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript repl</c>: a live machine and a V-Node context at a prompt, in JavaScript or C#.</summary>
/// <remarks>When standard input is not a terminal, inputs are read from it, each result printed, and the first error ends
/// the run with exit 1 (<c>--keep-going</c> continues), so sessions replay and test.</remarks>
public sealed class ReplCommand
{
    private readonly CliContext _cli;

    public ReplCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var lang = new Option<string>("--lang") { Description = "js or cs.", DefaultValueFactory = _ => "js" };
        lang.AcceptOnlyFromAmong("js", "cs");
        var manifest = new Option<string?>("--manifest") { Description = "A V-Node manifest whose grants the session gets (default: every function of the machine)." };
        var machine = new Option<string?>("--machine") { Description = "A machine file instead of the default machine." };
        var wire = new Option<string?>("--wire") { Description = "The default machine's wire: loopback or tap:NAME." };
        var keepGoing = new Option<bool>("--keep-going") { Description = "With inputs from a pipe or file: carry on after an error." };
        var export = new Option<string[]>("--export") { Description = "Give the function at ADDRESS to a guest over vfio-user (as run --export); .devices and .stats show its client.", HelpName = "ADDRESS[=SOCKET]" };
        var trace = new Option<string?>("--trace") { Description = "The exported functions' bus trace as JSON lines to FILE (- for stderr)." };
        var cmd = new Command("repl", """
            Evaluate JavaScript or C# against a live machine, input by input.

            Examples:
              nicscript repl
              nicscript repl --lang cs --manifest manifests/net-bridge.yml
              nicscript repl < session.js
            """)
        { lang, manifest, machine, wire, keepGoing, export, trace };
        cmd.SetAction(p => new ReplCommand(cli).Execute(p.GetValue(lang)!, p.GetValue(manifest), p.GetValue(machine), p.GetValue(wire),
            p.GetValue(keepGoing), Console.In, Console.IsInputRedirected, p.GetValue(export), p.GetValue(trace)));
        return cmd;
    }

    /// <param name="exports">The <c>--export</c> values: functions a guest drives while the session watches them.</param>
    public int Execute(string lang, string? manifestPath, string? machineFile, string? wire, bool keepGoing, TextReader input, bool scripted,
        IReadOnlyList<string>? exports = null, string? trace = null)
    {

        var sink = new ReplLogSink(_cli.Error);
        using var log = new Serilog.LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(sink).CreateLogger();
        MachineSpec? spec = machineFile is null ? null : MachineFileParser.Load(machineFile);
        List<ExportOption> exported = ExportOption.All(exports, spec);
        if (trace is not null && exported.Count == 0) throw new UserErrorException("--trace records what a guest does to an exported function: give --export too");
        var (machine, owned) = MachineFactory.Build(spec, wire, null, null, new DeviceEventLog(log), [.. exported.Select(e => e.Address)]);
        try
        {
            using (machine)
            {
                using GuestExports guests = GuestExports.Start(machine, exported, later: [], trace, _cli.Error); // stopped before the machine; a session has no DPU agent to place functions later
                VNodeManifest manifest = manifestPath is null ? ReplSession.GrantEverything(machine) : ManifestLoader.LoadVNode(manifestPath);
                var language = lang == "cs" ? ScriptLanguage.CSharp : ScriptLanguage.JavaScript;
                using var session = new ReplSession(machine, manifest, language, _cli.OutputText, log) { Exports = guests };
                sink.Session = session;
                _cli.Error.WriteLine($"nicscript repl ({lang}) on machine {machine.Name} as {manifest.Name}; granted: {string.Join(", ", manifest.Capabilities.Select(g => g.ToString()))}");
                _cli.Error.WriteLine(".help lists the commands");
                return Loop(session, input, scripted, keepGoing);
            }
        }
        finally
        {
            foreach (IDisposable d in owned) d.Dispose();
        }
    }

    private int Loop(ReplSession session, TextReader input, bool scripted, bool keepGoing)
    {
        if (!scripted && ReplLineEditor.IsSupported(_cli.Output))
        {
            new ReplLineEditor(session, _cli.Output).Run();
            return 0;
        }
        var pending = new ReplInput(input); // bounded: /dev/zero as input is an error, not a heap that grows
        while (!session.ExitRequested)
        {
            if (!scripted) _cli.Error.Write(pending.IsEmpty ? session.Prompt : "... ");
            if (!pending.ReadLine(out bool tooLong)) break;
            if (tooLong)
            {
                _cli.OutputText.WriteLine(ReplInput.TooLongMessage);
                if (scripted && !keepGoing) return 1;
                continue;
            }
            string text = pending.Pending;
            if (session.IsIncomplete(text)) continue;
            pending.Clear();
            if (!session.Submit(text) && scripted && !keepGoing) return 1;
        }
        if (!pending.IsEmpty)
        {
            _cli.OutputText.WriteLine("error: the input ended inside an unfinished statement");
            return 1;
        }
        return 0;
    }
}
