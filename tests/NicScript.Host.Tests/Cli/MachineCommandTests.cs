using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript machine show</c> over machine files whose devices come from the device families.</summary>
public sealed class MachineCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out, string Err) Nicscript(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        int exit = Program.RunAsync(new CliContext(console, output, error), args).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Show_ManaBesideVirtioNet_ListsThePfItsVfAndTheWires()
    {
        string path = _dir.Write("m.yml", """
            machine: { name: mixed }
            wires:
              - { name: cable, type: pair }
            devices:
              - { type: virtio-net, address: "00:1f.0", irq: 11, wire: cable }
              - { type: mana, address: "00:1e.0", mac: "00:15:5d:00:00:01", wire: cable }
            """);
        var (exit, output, err) = Nicscript("machine", "show", "--machine", path);
        Assert.True(exit == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("00:1f.0 ", StringComparison.Ordinal) && l.Contains("[1af4:1000]") && l.EndsWith("wire cable", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("00:1e.0 ", StringComparison.Ordinal) && l.Contains("MANA Physical Function") && l.EndsWith("wire -", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("00:1e.1 ", StringComparison.Ordinal) && l.Contains("MANA Virtual Function") && l.EndsWith("wire cable", StringComparison.Ordinal));
        Assert.Contains("wire cable: 2 port(s)", lines);
    }

    [Fact]
    public void Show_UnknownDeviceType_IsOneLineAtItsPlaceListingTheKnownTypes()
    {
        string path = _dir.Write("m.yml", "machine: {name: m}\nwires:\n  - {name: w, type: loopback}\ndevices:\n  - {type: e1000, address: \"00:03.0\", irq: 5, wire: w}\n");
        var (exit, _, err) = Nicscript("machine", "show", "--machine", path);
        Assert.Equal(1, exit);
        Assert.Equal($"{path}:5:12: error: device type 'e1000' is not known (expected virtio-net, mana)", err.Trim());
    }

    [Fact]
    public void Show_VfioUserKeysAndDpuSlots_ListsTheExportsTheFileDeclaresAndWhereExportsMayWait()
    {
        string path = _dir.Write("m.yml", """
            machine: { name: guests }
            wires:
              - { name: cable, type: pair }
            devices:
              - { type: virtio-net, address: "00:1f.0", irq: 11, wire: cable, vfio-user: nic.sock }
              - { type: virtio-net, address: "00:1e.0", irq: 10, wire: cable, vfio-user: true }
            dpu: { elastic_nic_slots: 4 }
            """);

        var (exit, output, err) = Nicscript("machine", "show", "--machine", path);

        Assert.True(exit == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("00:1f.0 ", StringComparison.Ordinal) && l.EndsWith($"wire cable, vfio-user {_dir.File("nic.sock")}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("00:1e.0 ", StringComparison.Ordinal) && l.EndsWith("/PID/00-1e.0.sock (the run's)", StringComparison.Ordinal));
        Assert.Contains("hot-add: the DPU's elastic NICs (device = vport) at 01:00.0-01:03.0 (run --export waits for them)", lines);
        Assert.Contains("hot-add: the DPU's vdisks (device = pvf_id) at 02:00.0-02:0f.0 (run --export waits for them)", lines);
    }
}
