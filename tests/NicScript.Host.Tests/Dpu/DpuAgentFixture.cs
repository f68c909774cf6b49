using NicScript.Driver.Time;
using Grpc.Core;
using Grpc.Net.Client;
using NicScript.Driver;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;
using Serilog;

namespace NicScript.Host.Tests.Dpu;

/// <summary>A real agent on loopback (Kestrel, port chosen by the OS) over a fresh state directory, and gRPC clients for it.</summary>
internal sealed class DpuAgentFixture : IAsyncDisposable
{
    private readonly TempDir _dir;
    private readonly bool _ownsDir;

    private DpuAgentFixture(TempDir dir, bool ownsDir, Machine machine, DpuServer server, GrpcChannel channel)
    {
        _dir = dir;
        _ownsDir = ownsDir;
        Machine = machine;
        Server = server;
        Channel = channel;
        Nic = new ElasticNicService.ElasticNicServiceClient(channel);
        Vdisk = new VdiskService.VdiskServiceClient(channel);
        Meter = new MeterService.MeterServiceClient(channel);
        Traffic = new TrafficControlService.TrafficControlServiceClient(channel);
        Stats = new PortStatsService.PortStatsServiceClient(channel);
        Optical = new OpticalPortService.OpticalPortServiceClient(channel);
    }

    public static async Task<DpuAgentFixture> StartAsync(DpuConfig? config = null, TempDir? stateDir = null, IClock? clock = null, ILogger? audit = null)
    {
        var dir = stateDir ?? new TempDir();
        var machine = DefaultMachine.Create();
        var agent = new DpuAgent(new DpuDevice(machine, config ?? new DpuConfig(), VirtioDpuFunctions.Instance, clock), new DpuStore(Path.Combine(dir.Path, "state")), audit ?? new LoggerConfiguration().CreateLogger());
        DpuServer server = await DpuServer.StartAsync(agent, "127.0.0.1:0");
        return new DpuAgentFixture(dir, stateDir is null, machine, server, GrpcChannel.ForAddress(server.Address));
    }

    public Machine Machine { get; }
    public DpuServer Server { get; }

    /// <summary>The agent's IP:PORT, as <c>--target</c> takes it.</summary>
    public string Target => new Uri(Server.Address).Authority;
    public DpuAgent Agent => Server.Agent;
    public GrpcChannel Channel { get; }
    public ElasticNicService.ElasticNicServiceClient Nic { get; }
    public VdiskService.VdiskServiceClient Vdisk { get; }
    public MeterService.MeterServiceClient Meter { get; }
    public TrafficControlService.TrafficControlServiceClient Traffic { get; }
    public PortStatsService.PortStatsServiceClient Stats { get; }
    public OpticalPortService.OpticalPortServiceClient Optical { get; }

    /// <summary><c>nicscript apply STATEFILE --target</c> this agent (and <paramref name="options"/>: <c>--prune</c>), in this
    /// process; the command's output, which the test fails with unless it exits 0.</summary>
    public async Task<string> ApplyAsync(string stateFile, params string[] options)
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(text) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, text, text), ["apply", stateFile, "--target", Target, .. options]);
        Assert.True(exit == 0, $"apply failed: {text}");
        return text.ToString();
    }

    public const uint Ok = 0, NotFound = 1, AlreadyExists = 2, NoResource = 3, InvalidArgument = 4, InUse = 5, Unsupported = 7, Unavailable = 9;

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
        Agent.Dispose();
        Machine.Dispose();
        if (_ownsDir) _dir.Dispose();
    }
}
