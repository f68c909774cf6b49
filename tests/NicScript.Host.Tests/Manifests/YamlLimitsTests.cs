using System.Diagnostics;
using NicScript.Host.Families.Dpu.Declarative;
using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Manifests;

/// <summary>YAML that would crash or stall the host: too deep, too big, not a file, alias bombs — one problem each, with its place.</summary>
public sealed class YamlLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Nested(string open, string close, int n) => string.Concat(Enumerable.Repeat(open, n)) + "1" + string.Concat(Enumerable.Repeat(close, n));

    private static ManifestProblem Single(Action load)
    {
        var e = Assert.Throws<ManifestException>(load);
        ManifestProblem p = Assert.Single(e.Problems, p => p.Severity == ProblemSeverity.Error);
        Assert.DoesNotContain('\n', p.ToString());
        return p;
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("[{a: ", "}]")]
    public void DeepFlowCollections_AreRefusedAtTheFirstLevelPastTheLimit(string open, string close)
    {
        string path = _dir.Write("vnode.yml", "vnode: " + Nested(open, close, 100_000) + "\n");
        ManifestProblem p = Single(() => ManifestLoader.Load(path));
        Assert.Equal(1, p.At.Line);
        Assert.True(p.At.Column > YamlTreeReader.MaxDepth, p.ToString());
        Assert.Equal($"nesting too deep: more than {YamlTreeReader.MaxDepth} lists or mappings inside each other", p.Message);
    }

    [Fact]
    public void DepthAtTheLimit_IsNotTheDepthError()
    {
        // 63 levels under the root mapping: 64 collections in all, the limit. The file is then wrong for other reasons.
        string path = _dir.Write("vnode.yml", "vnode: " + Nested("[", "]", YamlTreeReader.MaxDepth - 1) + "\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(path));
        Assert.DoesNotContain(e.Problems, p => p.Message.StartsWith("nesting too deep", StringComparison.Ordinal));
        string over = _dir.Write("over.yml", "vnode: " + Nested("[", "]", YamlTreeReader.MaxDepth) + "\n");
        Assert.StartsWith("nesting too deep", Single(() => ManifestLoader.Load(over)).Message);
    }

    [Fact]
    public void DeepBlockStyle_IsRefusedWithItsLine()
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < 2000; i++) text.Append(new string(' ', i)).Append("a:\n");
        string path = _dir.Write("vnode.yml", text.ToString());
        ManifestProblem p = Single(() => ManifestLoader.Load(path));
        Assert.Equal(YamlTreeReader.MaxDepth + 1, p.At.Line);
        Assert.StartsWith("nesting too deep", p.Message);
    }

    [Fact]
    public void AliasBomb_IsRefusedWithoutExpanding()
    {
        var text = new System.Text.StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 40; i++) text.Append($"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        string path = _dir.Write("vnode.yml", text.ToString());
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(path));
        Assert.Contains(e.Problems, p => p.Message.StartsWith("anchors (&a0) are not allowed", StringComparison.Ordinal) && p.At.Line == 1);
        Assert.Contains(e.Problems, p => p.Message.StartsWith("aliases (*a0) are not allowed", StringComparison.Ordinal) && p.At.Line == 2);
    }

    [Fact]
    public void MappingWithManyKeys_IsReadInLinearTime()
    {
        // A duplicate check that scanned every earlier key costs n²: 8x the keys would take ~64x the time. Measured as a
        // ratio (best of three each), so a slow or busy machine slows both sides alike; linear is ~8x, the bound is 30x.
        static string Keys(int n)
        {
            var text = new System.Text.StringBuilder("settings:\n");
            for (int i = 0; i < n; i++) text.Append("  k").Append(i).Append(": v\n");
            return text.Append("  k7: again\n").ToString();
        }
        static TimeSpan Best(string text)
        {
            TimeSpan best = TimeSpan.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                var (reader, root) = ManifestReader.Parse(text, "keys.yml");
                clock.Stop();
                Assert.NotNull(root); // a duplicate key is an error that does not end the read: the rest is still checked
                Assert.Contains(reader.Problems, p => p.Message == "duplicate key 'k7' (first at 9:3)");
                if (clock.Elapsed < best) best = clock.Elapsed;
            }
            return best;
        }
        string small = Keys(25_000), large = Keys(200_000);
        Best(small); // warm up
        double ratio = Best(large) / Best(small);
        Assert.True(ratio < 30, $"8x the keys took {ratio:F1}x the time");
    }

    [Theory]
    [InlineData("/dev/zero", "not a regular file (a character device); only regular files are read")]
    [InlineData("/dev/urandom", "not a regular file (a character device); only regular files are read")]
    [InlineData("/tmp", "is a folder, not a file")]
    public void NotARegularFile_IsOneProblemNamingIt(string path, string reason)
    {
        ManifestProblem p = Single(() => ManifestLoader.Load(path));
        Assert.Equal($"{path}: error: {reason}", p.ToString());
        Assert.Equal(reason, Single(() => MachineFileParser.Load(path)).Message);
        Assert.Equal(reason, Single(() => DpuStateFile.Load(path)).Message);
    }

    [Fact]
    public async Task FifoManifest_IsRefusedWithoutWaiting()
    {
        string fifo = _dir.File("vnode.yml");
        NicscriptProcess.MakeFifo(fifo);
        ManifestProblem p = await Task.Run(() => Single(() => ManifestLoader.Load(fifo))).WaitAsync(TimeSpan.FromSeconds(30)); // a reader that blocked times out
        Assert.Equal("not a regular file (a FIFO); only regular files are read", p.Message);
    }

    [Fact]
    public void YamlJustUnderTheLimit_IsRead_JustOver_IsRefused()
    {
        string head = "vnode: {name: t, version: \"0.1.0\", mode: strict}\nruntime: {entrypoint: main.js, required_mem_mb: 4, max_cpu_share: 0.5}\ncapabilities: []\n";
        _dir.Write("main.js", "1");
        string under = _dir.Write("under.yml", head + "#" + new string('x', InputFile.MaxYamlBytes - head.Length - 2) + "\n");
        Assert.Equal(InputFile.MaxYamlBytes, new FileInfo(under).Length);
        Assert.IsType<VNodeManifest>(ManifestLoader.Load(under));
        string over = _dir.Write("over.yml", head + "#" + new string('x', InputFile.MaxYamlBytes - head.Length - 1) + "\n");
        Assert.Equal("larger than 4 MiB, the limit for YAML files", Single(() => ManifestLoader.Load(over)).Message);
    }

    [Fact]
    public void DeepMachineAndStateFiles_AreRefusedWithTheirPlace()
    {
        string machine = _dir.Write("machine.yml", "machine: " + Nested("[", "]", 100_000) + "\n");
        Assert.StartsWith("nesting too deep", Single(() => MachineFileParser.Load(machine)).Message);
        string state = _dir.Write("dpu.yml", "ports: " + Nested("{a: ", "}", 100_000) + "\n");
        Assert.StartsWith("nesting too deep", Single(() => DpuStateFile.Load(state)).Message);
        Assert.StartsWith("nesting too deep", Single(() => DpuStateFile.Parse("ports: " + Nested("[", "]", 100_000), "saved")).Message);
    }
}
