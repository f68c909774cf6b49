using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Manifests;

/// <summary>YAML indents with spaces only: a tab in the indentation is reported at its own line and column (YamlDotNet's
/// exception has no place for it, which once made every such error <c>1:1</c>); tabs where YAML allows them load.</summary>
public sealed class YamlTabTests : IDisposable
{
    private readonly TempDir _dir = new();

    public YamlTabTests() => _dir.Write("main.js", "");

    public void Dispose() => _dir.Dispose();

    private static string Manifest => TestVNode.Manifest("t", "  - CAP_LOG_WRITE"); // line 7: "  required_mem_mb: 4"

    private ManifestProblem TabError(Action load)
    {
        var e = Assert.Throws<ManifestException>(load);
        ManifestProblem p = Assert.Single(e.Problems);
        Assert.StartsWith("a tab character in the indentation", p.Message);
        Assert.Contains("spaces", p.Message); // the hint
        return p;
    }

    [Theory]
    [InlineData("\trequired_mem_mb", 1)]
    [InlineData("  \trequired_mem_mb", 3)]
    public void TabIndentingALine_IsReportedAtItsLineAndColumn(string line7, int column)
    {
        string path = _dir.Write("vnode.yml", Manifest.Replace("  required_mem_mb", line7));
        ManifestProblem p = TabError(() => ManifestLoader.Load(path));
        Assert.Equal((7, column), (p.At.Line, p.At.Column));
        Assert.StartsWith($"{path}:7:{column}: error: a tab character", p.ToString());
    }

    [Fact]
    public void TabAloneOnABlankLine_IsReportedThere_NotAtTheScalarBefore()
    {
        string path = _dir.Write("vnode.yml", Manifest.Replace("  max_cpu_share", "\t\n  max_cpu_share"));
        ManifestProblem p = TabError(() => ManifestLoader.Load(path));
        Assert.Equal((8, 1), (p.At.Line, p.At.Column));
    }

    [Theory]
    [InlineData("metrics: [\"packets_rx\", \"latency_ns\"]", "metrics: [\"packets_rx\",\t\"latency_ns\"]")] // in a flow sequence
    [InlineData("name: \"t\"", "name:\t\"t\"")]                                                               // after a key
    [InlineData("version: \"0.1.0\"", "version: \"0.1.0\"\t# a comment after a tab")]                         // before a comment
    public void TabWhereYamlAllowsIt_Loads(string from, string to)
    {
        string path = _dir.Write("vnode.yml", Manifest.Replace(from, to));
        Assert.Contains("\t", File.ReadAllText(path));
        Assert.Equal("t", ManifestLoader.LoadVNode(path).Name);
    }

    [Fact]
    public void TabInAQuotedString_IsPartOfTheValue()
    {
        string path = _dir.Write("vnode.yml", Manifest.Replace("  mode: strict", "  maintainer: \"a\tb\"\n  mode: strict"));
        Assert.Equal("a\tb", ManifestLoader.LoadVNode(path).Maintainer);
    }

    [Fact]
    public void TabInASystemFile_IsReportedAtItsLine()
    {
        _dir.Write("a.yml", Manifest);
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n\t- a.yml\n");
        RunTarget.LoadResult r = RunTarget.Collect(path);
        ManifestProblem p = Assert.Single(r.Problems);
        Assert.Equal((path, 5, 1), (p.At.File, p.At.Line, p.At.Column));
        Assert.StartsWith("a tab character in the indentation", p.Message);
    }

    [Fact]
    public void TabInAMachineFile_IsReportedAtItsLine()
    {
        string path = _dir.Write("machine.yml", "machine:\n  name: m\nwires:\n  - name: w\n  \t type: loopback\ndevices: []\n");
        ManifestProblem p = TabError(() => MachineFileParser.Load(path));
        Assert.Equal((5, 3), (p.At.Line, p.At.Column));
    }
}
