using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Manifests;

public sealed class SystemManifestTests : IDisposable
{
    private readonly TempDir _dir = new();

    public SystemManifestTests()
    {
        _dir.Write("main.js", "");
        _dir.Write("a.yml", TestVNode.Manifest("a", "  - CAP_LOG_WRITE"));
        _dir.Write("b.yml", TestVNode.Manifest("b", "  - CAP_LOG_WRITE"));
        _dir.Write("machine.yml", "machine:\n  name: m\nwires:\n  - name: w\n    type: loopback\ndevices: []\n"); // RunTarget reads it too
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_ListsVNodesWithSettingsAndMachine()
    {
        string path = _dir.Write("sys.yml", """
            system:
              name: netstack
              machine: machine.yml
            vnodes:
              - a.yml
              - path: b.yml
                settings: { ipv4: "169.254.10.2/24" }
            """);
        var sys = ManifestLoader.LoadSystem(path);
        Assert.Equal("netstack", sys.Name);
        Assert.Equal(_dir.File("machine.yml"), sys.MachinePath);
        Assert.Equal([_dir.File("a.yml"), _dir.File("b.yml")], sys.VNodes.Select(v => v.ManifestPath));
        Assert.Equal("169.254.10.2/24", sys.VNodes[1].Settings["ipv4"]);
        RunTarget target = RunTarget.Load(path);
        Assert.Equal(["a", "b"], target.VNodes.Select(v => v.Name));
    }

    [Fact]
    public void MissingVNodeFile_IsRefusedAtItsLine()
    {
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n  - gone.yml\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.LoadSystem(path));
        Assert.Equal((5, 5), (e.Problems[0].At.Line, e.Problems[0].At.Column));
        Assert.Contains("'gone.yml' not found", e.Message);
    }

    [Fact]
    public void SameVNodeTwice_IsRefused()
    {
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n  - ./a.yml\n");
        Assert.Contains("listed twice", Assert.Throws<ManifestException>(() => ManifestLoader.LoadSystem(path)).Message);
    }

    [Fact]
    public void EmptyVNodeList_IsRefused()
    {
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes: []\n");
        Assert.Contains("at least one", Assert.Throws<ManifestException>(() => ManifestLoader.LoadSystem(path)).Message);
    }

    [Fact]
    public void ErrorsInListedManifests_AreAllReportedByRunTarget()
    {
        _dir.Write("bad.yml", TestVNode.Manifest("bad", "  - CAP_IRQ_REGISTER: 999"));
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n  - bad.yml\n");
        var e = Assert.Throws<ManifestException>(() => RunTarget.Load(path));
        Assert.EndsWith("bad.yml", e.Problems[0].At.File);
        Assert.Contains("IRQ 999 out of range", e.Message);
    }

    [Fact]
    public void TwoVNodesWithOneName_AreRefused()
    {
        _dir.Write("a2.yml", TestVNode.Manifest("a", "  - CAP_LOG_WRITE"));
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n  - a2.yml\n");
        Assert.Contains("two V-Nodes are named 'a'", Assert.Throws<ManifestException>(() => RunTarget.Load(path)).Message);
    }

    [Fact]
    public void LoadVNode_OnSystemFile_SaysWhatItIs()
    {
        string path = _dir.Write("sys.yml", "system:\n  name: s\nvnodes:\n  - a.yml\n");
        Assert.Contains("got a system file", Assert.Throws<ManifestException>(() => ManifestLoader.LoadVNode(path)).Message);
    }
}
