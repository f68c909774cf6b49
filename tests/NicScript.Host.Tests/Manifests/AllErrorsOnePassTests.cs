using System.Text.Json.Nodes;
using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Manifests;

/// <summary><c>check</c> and <c>run</c> report every error of every file at once — the system file, its machine file,
/// each member manifest, and (for <c>check</c>) the scripts of the members that loaded — sorted by file and line.</summary>
public sealed class AllErrorsOnePassTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>Every error of the fixture, in the order they must come out: files as read (system, its machine file, the
    /// members as listed), lines ascending within a file.</summary>
    private static readonly string[] Expected =
    [
        "system.yml:3:3: error: unknown key 'colour' in system",
        "machine.yml:3:3: error: duplicate key 'name' (first at 2:3)",
        "machine.yml:6:11: error: wire type 'coax' is not one of",
        "a.yml:5:3: error: duplicate key 'name' (first at 2:3)",
        "a.yml:12:5: error: unknown capability 'CAP_TELEPORT'",
        "b.yml:6:15: error: runtime.entrypoint 'missing.js' not found",
        "b.yml:7:20: error: expected an integer for runtime.required_mem_mb, got a string",
    ];

    public AllErrorsOnePassTests()
    {
        _dir.Write("system.yml", """
            system:
              name: "pair"
              colour: blue
              machine: machine.yml
            vnodes:
              - a.yml
              - b.yml
              - c.yml
            """);
        _dir.Write("machine.yml", """
            machine:
              name: m
              name: n
            wires:
              - name: w
                type: coax
            devices: []
            """);
        _dir.Write("a.yml", """
            vnode:
              name: "a"
              version: "0.1.0"
              mode: strict
              name: "a2"
            runtime:
              entrypoint: "a.js"
              required_mem_mb: 16
              max_cpu_share: 0.05
            capabilities:
              - CAP_LOG_WRITE
              - CAP_TELEPORT
            """);
        _dir.Write("a.js", "log.info('a');\n");
        _dir.Write("b.yml", """
            vnode:
              name: "b"
              version: "0.1.0"
              mode: strict
            runtime:
              entrypoint: "missing.js"
              required_mem_mb: "lots"
              max_cpu_share: 0.05
            capabilities:
              - CAP_LOG_WRITE
            """);
        _dir.Write("c.yml", TestVNode.Manifest("c", "  - CAP_LOG_WRITE", script: "c.js"));
        _dir.Write("c.js", "log.info('c');\nlet = ;\n");
    }

    public void Dispose() => _dir.Dispose();

    private static List<string> ErrorLines(string stderr) =>
        [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.Contains(": error: ", StringComparison.Ordinal))];

    private static void AssertInOrder(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        Assert.True(expected.Count == actual.Count, $"expected {expected.Count} errors, got {actual.Count}:\n{string.Join('\n', actual)}");
        for (int i = 0; i < expected.Count; i++) Assert.StartsWith(expected[i], actual[i]);
    }

    [Fact]
    public void Check_ReportsEveryErrorOfEveryFile_SortedByFileAndLine()
    {
        var (exit, _, err) = NicscriptProcess.Run(_dir.Path, null, null, "check", "system.yml");
        Assert.Equal(1, exit);
        // the script of the one member that loaded is checked too, although every other file has errors
        AssertInOrder([.. Expected, "c.js:2:"], ErrorLines(err));
    }

    [Fact]
    public void CheckJson_ListsThemAll()
    {
        var (exit, output, _) = NicscriptProcess.Run(_dir.Path, null, null, "check", "--json", "system.yml");
        Assert.Equal(1, exit);
        JsonNode json = JsonNode.Parse(output)!;
        Assert.False((bool)json["ok"]!);
        var rows = json["problems"]!.AsArray().Select(p => $"{p!["at"]}: {p["severity"]}: {p["message"]}").ToList();
        AssertInOrder([.. Expected, "c.js:2:"], rows);
    }

    [Fact]
    public void Run_ReportsEveryErrorOfEveryFile_OneALine_AndRunsNothing()
    {
        var (exit, output, err) = NicscriptProcess.Run(_dir.Path, null, null, "run", "system.yml", "--duration", "1s");
        Assert.Equal(1, exit);
        AssertInOrder(Expected, ErrorLines(err));
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.DoesNotContain("V-Node", output);
    }

    [Fact]
    public void Collect_ErrorInTheSystemFile_StillReadsEveryMember()
    {
        RunTarget.LoadResult r = RunTarget.Collect(_dir.File("system.yml"));
        Assert.Null(r.Target);
        Assert.Equal(["c"], r.Loaded.Select(v => v.Name));
        Assert.Contains(r.Problems, p => p.Message.StartsWith("duplicate key 'name'", StringComparison.Ordinal) && p.At.File.EndsWith("a.yml", StringComparison.Ordinal));
    }

    [Fact]
    public void DuplicateKey_IsReportedAtTheSecondKey_AndTheRestOfTheFileIsChecked()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(_dir.File("a.yml")));
        var errors = e.Problems.Where(p => p.Severity == ProblemSeverity.Error).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal((5, 3, "duplicate key 'name' (first at 2:3)"), (errors[0].At.Line, errors[0].At.Column, errors[0].Message));
        Assert.Equal((12, 5), (errors[1].At.Line, errors[1].At.Column));
        Assert.StartsWith("unknown capability 'CAP_TELEPORT'", errors[1].Message);
        Assert.Equal(2, Assert.Throws<ManifestException>(() => RunTarget.Load(_dir.File("a.yml"))).Message.Split('\n').Length); // run: every error, one a line
    }

    [Fact]
    public void MachineFileOption_IsCheckedInTheSamePass()
    {
        _dir.Write("other.yml", "machine:\n  name: m\nwires:\n  - name: w\n    type: loopback\ndevices: []\nextra: 1\n");
        var (exit, _, err) = NicscriptProcess.Run(_dir.Path, null, null, "run", "b.yml", "--machine", "other.yml", "--duration", "1s");
        Assert.Equal(1, exit);
        AssertInOrder(["b.yml:6:15: error:", "b.yml:7:20: error:", "other.yml:7:1: error: unknown key 'extra'"], ErrorLines(err));
    }
}
