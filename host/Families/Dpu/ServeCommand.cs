using System.CommandLine;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Host.Families.Dpu.Agent;
using NicScript.Host.Families.Dpu;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Dpu;

/// <summary><c>nicscript serve</c>: the DPU agent — the six control-plane services over gRPC, state in SQLite (reference/dpu.md).</summary>
public static class ServeCommand
{
    public static Command Build(CliContext cli)
    {
        var listen = new Option<string>("--listen") { Description = "IP:PORT to listen on (HTTP/2 without TLS).", DefaultValueFactory = _ => "127.0.0.1:50051" };
        var state = new Option<string>("--state") { Description = "The state directory (SQLite database).", DefaultValueFactory = _ => DefaultState() };
        var reset = new Option<bool>("--reset-state") { Description = "Start with an empty state (the stored one is deleted)." };
        var machine = new Option<string?>("--machine") { Description = "A machine file instead of the default machine." };
        var duration = new Option<string?>("--duration") { Description = "Stop after this long (default: until Ctrl+C or SIGTERM)." };
        var cmd = new Command("serve", """
            Run the DPU agent: ElasticNic, Vdisk, Meter, TrafficControl, PortStats and OpticalPort services on gRPC
            (package nicscript.dpu.v1, server reflection on). Every change is committed to the state directory before
            it is acknowledged; a restart rebuilds the DPU from it.

            Examples:
              nicscript serve                                   # until Ctrl+C or SIGTERM (or --duration)
              nicscript serve --listen 127.0.0.1:50052 --state ./dpu-state --reset-state
              nicscript call ElasticNicService.GetPortCapability     # from another shell, while it serves
            """)
        { listen, state, reset, machine, duration };
        cmd.SetAction(async (p, cancel) => await Run(cli, p.GetValue(listen)!, p.GetValue(state)!, p.GetValue(reset), p.GetValue(machine), p.GetValue(duration), cancel).ConfigureAwait(false));
        return cmd;
    }

    private static string DefaultState() =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"), "nicscript", "dpu");

    private static async Task<int> Run(CliContext cli, string listen, string stateDir, bool reset, string? machineFile, string? duration, CancellationToken cancel)
    {
        // Every option and file is checked before the state database is made or a socket listens.
        TimeSpan limit = Timeout.InfiniteTimeSpan;
        if (duration is not null && !DurationParser.TryParse(duration, out limit)) throw new UserErrorException($"--duration {duration}: expected e.g. 30s, 500ms, 2m");
        ListenAddress.CheckBindable("--listen", listen, ListenAddress.Parse("--listen", listen));
        if (stateDir.Length == 0 || File.Exists(stateDir)) throw new UserErrorException($"--state '{stateDir}': expected a folder{(stateDir.Length == 0 ? "" : ", not a file")}");
        MachineSpec? spec = machineFile is null ? null : MachineFileParser.Load(machineFile);
        var (machine, owned) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
        try
        {
            using var machineScope = machine;
            using var log = cli.CreateLogger(Serilog.Events.LogEventLevel.Information, null); // stderr, coloured as --color says
            var device = new DpuDevice(machine, DpuMachineBlock.Of(spec), VirtioDpuFunctions.Instance);
            using var agent = new DpuAgent(device, new DpuStore(stateDir), log, reset); // a stored state that does not fit the machine: exit 1, one line
            await using DpuServer server = await DpuServer.StartAsync(agent, listen).ConfigureAwait(false);
            cli.Error.WriteLine($"nicscript serve: listening on {server.Address} (state {agent.Store.Path}; {agent.State.Ports.Count} ports, {agent.State.Vdisks.Count} vdisks, {agent.State.Meters.Count} meters, {agent.State.Rules.Count} rules)");
            try
            {
                await Task.Delay(limit, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            return 0;
        }
        finally
        {
            foreach (IDisposable d in owned) d.Dispose();
        }
    }
}
