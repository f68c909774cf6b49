using System.Text;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Pci;
using NicScript.Driver.Tests.VfioUser;
using NicScript.Driver.VfioUser;
using NicScript.Host.Families;
using NicScript.Host.Guests;
using NicScript.Host.Tests.Dpu;

namespace NicScript.Host.Tests.Guests;

/// <summary><c>--export</c> on <c>run</c> and <c>repl</c>: a function given to a guest over vfio-user listens for the
/// run's lifetime and shows its client's state; a bad export is one line and exit 1, with nothing left behind.</summary>
public sealed class GuestExportsTests
{
    private static readonly string Responder = Path.Combine(Repo.Root, "manifests", "responder.yml");
    private static readonly string GuestPair = Path.Combine(Repo.Root, "manifests", "machines", "guest-pair.yml");

    [Fact]
    public void Run_Export_ListensForTheRunAndReportsTheFunctionsState()
    {
        using var dir = new TempDir();
        string socket = dir.File("nic.sock"), trace = dir.File("bus.jsonl");

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--machine", GuestPair,
            "--export", "00:1e.0=" + socket, "--trace", trace, "--duration", "1s");

        Assert.True(exit == 0, err);
        Assert.Contains($"00:1e.0 (virtio-net): vfio-user on {socket}", err);
        Assert.Contains($"00:1e.0 vfio-user {socket}: waiting, clients 0, mappings 0, DMA faults 0, last close -", err);
        Assert.Contains("00:1e.0 virtio-net: tx 0 (0 errors), rx 0 (0 dropped)", err);
        Assert.False(File.Exists(socket), "the socket outlived the run");
        Assert.True(File.Exists(trace), "no trace file");
    }

    [Fact]
    public void Repl_ExportOfTheDefaultMachinesVirtioNet_UsesASocketInTheSessionsFolder()
    {
        using var dir = new TempDir();

        var (exit, _, err) = NicscriptProcess.RunWith(new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = dir.Path }, dir.Path, ".exit\n", null,
            "repl", "--export", "00:1f.0");

        Assert.True(exit == 0, err);
        Assert.Matches(@"00:1f\.0 \(virtio-net\): vfio-user on " + System.Text.RegularExpressions.Regex.Escape(dir.Path) + @"/nicscript/\d+/00-1f\.0\.sock", err);
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "nicscript"))); // the run's folder went with it
    }

    [Theory]
    [InlineData("00:1c.0", "--export 00:1c.0: the machine has no device there, and none is placed there while it runs (its functions: 00:1f.0, 00:1e.0; "
        + "the DPU's elastic NICs (device = vport) at 01:00.0-01:0f.0; the DPU's vdisks (device = pvf_id) at 02:00.0-02:0f.0)")]
    [InlineData("01:10.0", "--export 01:10.0: the machine has no device there, and none is placed there while it runs")] // past the DPU's 16 slots
    [InlineData("01:02.1", "--export 01:02.1: the machine has no device there, and none is placed there while it runs")] // the DPU places function 0 only
    [InlineData("zz", "--export zz: 'zz' is not a PCI address")]
    [InlineData("00:1e.0=/proc/nicscript.sock", "--export 00:1e.0=/proc/nicscript.sock: cannot listen there")]
    public void Run_BadExport_IsOneLineAndExit1(string export, string error)
    {
        using var dir = new TempDir();

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--machine", GuestPair, "--export", export, "--duration", "1s");

        Assert.Equal(1, exit);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(error, line);
    }

    [Fact]
    public void Run_TraceWithoutExport_IsRefused()
    {
        using var dir = new TempDir();

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--trace", "bus.jsonl", "--duration", "1s");

        Assert.Equal(1, exit);
        Assert.Contains("--trace records what a guest does to an exported function: give --export too", err);
    }

    [Fact]
    public void Repl_Export_DevicesAndStatsShowTheGuestClient()
    {
        using var dir = new TempDir();
        string socket = dir.File("nic.sock");

        var (exit, output, err) = NicscriptProcess.Run(dir.Path, ".devices\n.stats\n", null, "repl", "--machine", GuestPair, "--export", "00:1e.0=" + socket);

        Assert.True(exit == 0, err);
        string state = $"00:1e.0 vfio-user {socket}: waiting, clients 0, mappings 0, DMA faults 0, last close -";
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains(state, StringComparison.Ordinal))); // once in each
    }

    [Fact]
    public void Run_MachineFileVfioUserKey_ExportsTheDevice()
    {
        using var dir = new TempDir();
        string machine = dir.Write("m.yml", File.ReadAllText(GuestPair).Replace("    wire: link\n  - type: virtio-net\n    address: \"00:1e.0\"", "    wire: link\n  - type: virtio-net\n    vfio-user: nic.sock\n    address: \"00:1e.0\"", StringComparison.Ordinal));
        Assert.Contains("vfio-user: nic.sock", File.ReadAllText(machine));

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--machine", machine, "--duration", "1s");

        Assert.True(exit == 0, err);
        Assert.Contains($"00:1e.0 (virtio-net): vfio-user on {dir.File("nic.sock")}", err);
    }

    [Fact]
    public void Run_ExportedByOptionAndMachineFile_IsRefused()
    {
        using var dir = new TempDir();
        string machine = dir.Write("m.yml", File.ReadAllText(GuestPair).Replace("    wire: link\n  - type: virtio-net\n    address: \"00:1e.0\"", "    wire: link\n  - type: virtio-net\n    vfio-user: true\n    address: \"00:1e.0\"", StringComparison.Ordinal));

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--machine", machine, "--export", "00:1e.0", "--duration", "1s");

        Assert.Equal(1, exit);
        Assert.Contains("00:1e.0 is exported by --export and by the machine file's vfio-user", err);
    }

    [Fact]
    public void Run_ExportOfAnEmptyDpuSlot_WaitsForTheFunctionAndSaysSo()
    {
        using var dir = new TempDir();
        string socket = dir.File("disk.sock");

        var (exit, output, err) = NicscriptProcess.Run(dir.Path, null, null, "run", Responder, "--export", "02:03.0=" + socket, "--duration", "1s", "--json");

        Assert.True(exit == 0, err);
        Assert.Contains($"02:03.0: no function yet; vfio-user on {socket} once one of the DPU's vdisks (device = pvf_id) is placed there", err);
        Assert.Contains($"02:03.0 vfio-user {socket}: no function (waits for one of the DPU's vdisks (device = pvf_id)), clients 0,", err);
        Assert.Contains("\"present\":false", output);
        Assert.False(File.Exists(socket), "a socket listened without a function behind it");
    }

    /// <summary>The elastic NIC's export is given before <c>apply</c> makes it (as <c>run --export 01:02.0 --dpu-listen</c>
    /// does), and a vfio-user client reaches the NIC once it is made; an apply that prunes it puts the client out.</summary>
    [Fact]
    public async Task Export_BeforeApplyMakesTheElasticNic_ServesItAfterAndStopsWhenPruned()
    {
        await using DpuAgentFixture f = await DpuAgentFixture.StartAsync();
        using var dir = new TempDir();
        PciAddress address = DpuDevice.ElasticNicAddress(2);
        string socket = dir.File("nic.sock");
        var lines = new StringWriter();
        TextWriter writer = TextWriter.Synchronized(lines);
        using var exports = GuestExports.Start(f.Machine, [new ExportOption(address, socket)], [.. DeviceFamilies.All.SelectMany(x => x.HotAddSlots(null))], null, writer);
        Assert.Contains($"01:02.0: no function yet; vfio-user on {socket} once one of the DPU's elastic NICs (device = vport) is placed there", Console());
        Assert.False(File.Exists(socket));

        await f.ApplyAsync(dir.Write("dpu.yml", "kind: dpu_state\nversion: 1\nports:\n  - { uuid: vm-a-eth0, vport: 2, mtu: 1500 }\n"));
        Assert.Contains($"01:02.0 (virtio-net) hot-added: vfio-user on {socket}", Console());
        using (var client = VfioUserTestClient.Connect(socket))
        {
            Assert.False(client.Version().IsError);
            Assert.Equal(0x1041_1af4ul, client.Read(VfioUserSession.RegionConfig, 0, 4)); // the elastic NIC's vendor and device ids
            Assert.Contains($"01:02.0 vfio-user {socket}: connected, clients 1,", State(exports));

            await f.ApplyAsync(dir.Write("dpu.yml", "kind: dpu_state\nversion: 1\nports: []\n"), "--prune");

            Assert.True(client.ClosedByServer(), "the client kept a removed function");
        }
        Assert.Contains($"01:02.0 (virtio-net) hot-removed: vfio-user on {socket} closed, its client put out; waits for a function there again", Console());
        Assert.False(File.Exists(socket), "the socket outlived its function");
        Assert.Contains($"01:02.0 vfio-user {socket}: no function (waits for one of the DPU's elastic NICs (device = vport)), clients 1, "
            + "mappings 0, DMA faults 0, last close the function was hot-removed", State(exports));

        await f.ApplyAsync(dir.Write("dpu.yml", "kind: dpu_state\nversion: 1\nports:\n  - { uuid: vm-b-eth0, vport: 2, mtu: 1500 }\n"));
        using var again = VfioUserTestClient.Connect(socket); // the address filled again: served again
        Assert.False(again.Version().IsError);
        Assert.Contains($"01:02.0 vfio-user {socket}: connected, clients 2,", State(exports));

        string Console()
        {
            lock (writer) return lines.ToString(); // written on the agent's thread: the synchronized writer locks itself
        }
    }

    private static string State(GuestExports exports)
    {
        var text = new StringBuilder();
        exports.AppendState(text);
        return text.ToString();
    }
}
