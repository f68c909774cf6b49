using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;
using NicScript.Host.Tests.Dpu;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript serve</c> at the command line: the machine file's dpu block, a stored state that does not fit (DPU-66).</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_refuses_a_state_that_does_not_fit_the_machine_with_one_line_and_exit_1()
    {
        using var dir = new TempDir();
        string state = Path.Combine(dir.Path, "state");
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "x", Vport = 12 })).Status);
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(new StringWriter()) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), error),
            ["serve", "--machine", Path.Combine(Repo.Root, "manifests/machines/small-dpu.yml"), "--state", state, "--listen", "127.0.0.1:0", "--duration", "1s"]);
        Assert.Equal(1, exit);
        Assert.Equal("vport 12 is stored but the machine has 4 elastic NIC slots", error.ToString().Trim());
        var again = new StringWriter();
        exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), again),
            ["serve", "--machine", Path.Combine(Repo.Root, "manifests/machines/small-dpu.yml"), "--state", state, "--reset-state", "--listen", "127.0.0.1:0", "--duration", "200ms"]);
        Assert.Equal(0, exit);
        Assert.Contains("0 ports", again.ToString());
    }

    [Fact]
    public async Task Serve_names_a_state_directory_it_cannot_use_in_one_line()
    {
        using var dir = new TempDir();
        string notADatabase = Path.Combine(dir.Path, "state");
        Directory.CreateDirectory(notADatabase);
        File.WriteAllText(Path.Combine(notADatabase, "dpu.sqlite"), "garbage");
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(new StringWriter()) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), error),
            ["serve", "--state", notADatabase, "--listen", "127.0.0.1:0", "--duration", "200ms"]);
        Assert.Equal(1, exit);
        string line = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.Contains("dpu.sqlite: cannot use the DPU state", line);
    }
}
