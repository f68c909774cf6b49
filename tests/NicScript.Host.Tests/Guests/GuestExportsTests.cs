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
    [InlineData("00:1c.0", "--export 00:1c.0: the machine has no device there (its functions: 00:1f.0, 00:1e.0)")]
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
}
