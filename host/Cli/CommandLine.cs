using System.Collections.Immutable;
using System.CommandLine;
using NicScript.Host.Families;
using Serilog.Events;

namespace NicScript.Host.Cli;

/// <summary>Wires System.CommandLine to the command classes; nothing else happens here.</summary>
public static class CommandLine
{
    public static RootCommand Build(CliContext cli)
    {
        var verbose = new Option<bool>("--verbose") { Description = "Print stack traces of internal errors.", Recursive = true };
        var root = new RootCommand("""
            nicscript — a scriptable host for NIC and DPU driver logic.

            Examples:
              nicscript run manifests/hello.yml
              nicscript check manifests/hello-cs.yml
            """);
        root.Options.Add(verbose);
        var color = new Option<string>(OutputStyle.OptionName)
        {
            Description = "Colour and table borders: auto (on a terminal, unless NO_COLOR is set), always, never. Pipes get plain columns.",
            HelpName = "auto|always|never",
            DefaultValueFactory = _ => "auto",
            Recursive = true,
        };
        color.AcceptOnlyFromAmong("auto", "always", "never"); // read before parsing by OutputStyle.ModeFrom (the console is made first)
        root.Options.Add(color);
        root.Subcommands.Add(Run(cli, verbose));
        root.Subcommands.Add(Check(cli));
        root.Subcommands.Add(MachineCommand.Build(cli));
        root.Subcommands.Add(BenchCommand.Build(cli));
        root.Subcommands.Add(ReplCommand.Build(cli));
        root.Subcommands.Add(Guests.GuestCommand.Build(cli));
        foreach (CliVerb verb in DeviceFamilies.Verbs) root.Subcommands.Add(verb.Build(cli)); // gdma, rdma, serve, plan, apply, call
        root.Subcommands.Add(CompletionCommand.Build(cli));
        CompletionCommand.AddYamlPaths(root); // nicscript [suggest:N] "LINE" (the shell glue's question) completes manifest paths
        return root;
    }

    private static Command Run(CliContext cli, Option<bool> verbose)
    {
        var target = new Argument<string>("manifest") { Description = "A V-Node manifest (vnode.yml) or a system file." };
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON object." };
        var duration = new Option<TimeSpan?>("--duration")
        {
            Description = "Stop after this long (500ms, 5s, 2m); default: when every V-Node is done.",
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (DurationParser.TryParse(text, out TimeSpan d)) return d;
                r.AddError($"--duration: '{text}' is not a duration (e.g. 500ms, 5s, 2m)");
                return null;
            },
        };
        var logLevel = new Option<LogEventLevel>("--log-level")
        {
            Description = "Verbose, Debug, Information, Warning, Error or Fatal.",
            DefaultValueFactory = _ => LogEventLevel.Information,
        };
        var logFile = new Option<string?>("--log-file") { Description = "Also write every log event as compact JSON to FILE." };
        var audit = new Option<string?>("--audit") { Description = "Append capability denials to FILE as JSON lines." };
        var cache = new Option<string?>("--cache") { Description = "Folder for compiled C# scripts (default: ~/.cache/nicscript/csx)." };
        var machine = new Option<string?>("--machine") { Description = "A machine file (YAML) instead of the default machine." };
        var wire = new Option<string?>("--wire") { Description = "The default machine's wire: loopback (default) or tap:NAME (a TAP device; the Linux stack is the peer)." };
        var pcap = new Option<string?>("--pcap") { Description = "Capture the (first) wire to a pcap FILE that tshark reads." };
        var packets = new Option<int?>("--packets") { Description = "Echo requests the built-in peer sends (a system with a peer; default 1000)." };
        var rate = new Option<double?>("--rate") { Description = "Echo requests per second (default: as fast as replies come, 128 outstanding)." };
        var restarts = new Option<int>("--restarts") { Description = "How often a failed V-Node is restarted (with backoff) before it stays failed.", DefaultValueFactory = _ => 3 };
        var metricsListen = new Option<string?>("--metrics-listen") { Description = "Serve the declared metrics as Prometheus text at http://127.0.0.1:PORT/metrics while running." };
        var faults = new Option<string?>("--faults") { Description = "Inject faults on the (first) wire: drop=0.05,corrupt=0.01,duplicate=0,delay=0,reorder=0,seed=7,delay_ms=10." };
        var export = new Option<string[]>("--export")
        {
            Description = "Give the function at ADDRESS to a guest over vfio-user (QEMU's vfio-user-pci), on SOCKET or a socket in the run's folder (printed at start); repeatable. `nicscript guest --device ADDRESS` boots one.",
            HelpName = "ADDRESS[=SOCKET]",
        };
        var trace = new Option<string?>("--trace") { Description = "Write what guests do to exported functions (register accesses, doorbells, interrupts, DMA maps) as JSON lines to FILE (- for stderr)." };
        var cmd = new Command("run", """
            Run a V-Node manifest or a system of V-Nodes on the default machine.

            Examples:
              nicscript run manifests/netstack.yml
              nicscript run manifests/netstack.yml --packets 5000 --json
              nicscript run manifests/hello-cs.yml --json
              nicscript run manifests/hello.yml --duration 5s --audit audit.jsonl
              nicscript run manifests/responder.yml --wire tap:nic0 --pcap run.pcap --duration 60s   # as root
              nicscript run manifests/netstack.yml --packets 50 --faults drop=0.05,seed=7 --duration 60s   # lost requests: exit 1
              nicscript run manifests/responder.yml --machine manifests/machines/guest-pair.yml --export 00:1e.0 --trace bus.jsonl --duration 5s
            """)
        { target, json, duration, logLevel, logFile, audit, cache, machine, wire, pcap, faults, packets, rate, restarts, metricsListen, export, trace };
        ImmutableArray<RunPart> families = DeviceFamilies.RunParts(); // their options after the generic ones
        foreach (Option option in families.SelectMany(f => f.Options)) cmd.Add(option);
        cmd.SetAction((parse, cancel) => new RunCommand(cli).ExecuteAsync(new RunOptions(
            parse.GetRequiredValue(target), parse.GetValue(json), parse.GetValue(duration), parse.GetValue(logLevel),
            parse.GetValue(logFile), parse.GetValue(audit), parse.GetValue(cache), parse.GetValue(verbose),
            parse.GetValue(machine), parse.GetValue(wire), parse.GetValue(pcap), parse.GetValue(faults), parse.GetValue(packets), parse.GetValue(rate), parse.GetValue(restarts), parse.GetValue(metricsListen),
            [.. families.Select(f => f.Bind(parse))], parse.GetValue(export), parse.GetValue(trace)), cancel));
        return cmd;
    }

    private static Command Check(CliContext cli)
    {
        var target = new Argument<string>("manifest") { Description = "A V-Node manifest (vnode.yml) or a system file." };
        var json = new Option<bool>("--json") { Description = "Print the problems as one JSON object." };
        var cache = new Option<string?>("--cache") { Description = "Folder for compiled C# scripts." };
        var cmd = new Command("check", """
            Validate a manifest or system, compile and sandbox-check its scripts without running them.
            Lists every problem as file:line:col and exits 1 if there is any error.

            Examples:
              nicscript check manifests/hello.yml
              nicscript check manifests/netstack.yml --json
            """)
        { target, json, cache };
        cmd.SetAction(parse => new CheckCommand(cli).Execute(new CheckOptions(parse.GetRequiredValue(target), parse.GetValue(json), parse.GetValue(cache))));
        return cmd;
    }
}
