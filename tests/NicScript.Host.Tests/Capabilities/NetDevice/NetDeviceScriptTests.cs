using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Capabilities.NetDevice;

/// <summary>The netdevice checklist through the JavaScript engine (reference/netdevice.md §8.7) and the sniffer example.</summary>
public sealed class NetDeviceScriptTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(int Exit, string Out, string Log)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new CliContext(console, output, error), [.. args, "--cache", _dir.Path]);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task The_checklist_scenarios_pass_through_JavaScript_on_fixture_F()
    {
        string script = Path.Combine(Repo.Root, "tests/NicScript.Host.Tests/Capabilities/NetDevice/netdevice-scenarios.js");
        string manifest = Path.Combine(_dir.Path, "scenarios.yml");
        File.WriteAllText(manifest, $"""
            vnode:
              name: "netdevice-scenarios"
              version: "0.1.0"
              maintainer: "nicscript@example.org"
              mode: strict
            runtime:
              entrypoint: "{script}"
              required_mem_mb: 256
              max_cpu_share: 1.0
            capabilities:
              - NetworkAccess
              - CAP_HARDWARE_IO_PCI: "00:1f.0"
              - CAP_DMA_ALLOC
              - CAP_LOG_WRITE
            """);
        var (exit, _, log) = await Run("run", manifest, "--machine", Path.Combine(Repo.Root, "manifests/machines/netdevice-fixture.yml"));
        Assert.True(exit == 0, log);
        Assert.Contains("PASS ND-79", log);
        Assert.Matches(@"netdevice scenarios: \d+ passed through JavaScript", log);
        Assert.Equal(38, System.Text.RegularExpressions.Regex.Matches(log, "PASS ND-").Count);
    }

    [Fact]
    public async Task The_sniffer_sees_every_frame_echoed_and_received()
    {
        var (exit, _, log) = await Run("run", Path.Combine(Repo.Root, "manifests/netdevice-sniffer.yml"));
        Assert.True(exit == 0, log);
        Assert.Contains("ARP request who-has 169.254.10.2", log);
        Assert.Contains("sniffer saw 8 frames: 4 echoed from tx, 4 received", log);
    }
}
