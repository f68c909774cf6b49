using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Tests.Scripting.CSharp;

/// <summary>C# sources that would take Roslyn off its stack, and #load siblings that lead where they must not: one problem each.</summary>
public sealed class CSharpInputLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ScriptProblem OneProblem(string code, string name = "deep.csx")
    {
        IReadOnlyList<ScriptProblem> problems = CSharpEngine.Check(_dir.Write(name, code));
        ScriptProblem p = Assert.Single(problems);
        Assert.DoesNotContain('\n', p.ToString());
        return p;
    }

    private static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    public static TheoryData<string, string> DeepSources => new()
    {
        { "parentheses", "var x = " + Repeat("(", 100_000) + "1" + Repeat(")", 100_000) + ";" },
        { "brackets", "var y = " + Repeat("new object[] {", 100_000) + Repeat("}", 100_000) + ";" },
        { "indexers", "var a = new int[1];\nvar y = a" + Repeat("[a", 100_000) + "[0" + Repeat("]", 100_001) + ";" },
        { "unary chain", "var y = " + Repeat("-", 100_000) + "1;" },
        { "braces", Repeat("{", 100_000) + Repeat("}", 100_000) },
        { "lambdas", "Func<int, int> f = " + Repeat("a => (", 100_000) + "a" + Repeat(")", 100_000) + ";" },
        { "generics", "List<" + Repeat("List<", 100_000) + "int" + Repeat(">", 100_001) + " x = null;" },
        { "plus chain", "var a = 1;\nvar x = " + string.Join('+', Enumerable.Repeat("a", 100_000)) + ";" },
        { "string chain", "var x = " + string.Join(" + ", Enumerable.Repeat("\"s\"", 50_000)) + ";" },
        { "conditional chain", "var c = true;\nvar x = " + Repeat("c ? 1 : ", 50_000) + "0;" },
        { "assignment chain", "int a = 0;\n" + Repeat("a = ", 100_000) + "1;" },
        { "coalesce chain", "int? a = null;\nvar x = " + Repeat("a ?? ", 100_000) + "0;" },
        { "interpolation holes", "var x = " + Repeat("$\"{", 50_000) + "1" + Repeat("}\"", 50_000) + ";" },
    };

    [Theory]
    [MemberData(nameof(DeepSources))]
    public void DeepSource_IsOneProblemWithItsPlace(string what, string code)
    {
        ScriptProblem p = OneProblem(code);
        Assert.True(p.At.Line > 0, what + ": " + p);
        Assert.StartsWith("nesting too deep", p.Message);
    }

    [Fact]
    public void NestingJustUnderTheLimits_CompilesAndRuns()
    {
        int n = SourceNesting.MaxBrackets - 8;
        string code = "var a = 1;\nvar x = " + Repeat("(", n) + "a" + Repeat(")", n) + ";\n" +
            "var y = " + string.Join('+', Enumerable.Repeat("a", 600)) + ";\n" +
            "int F(Func<int> g) => g();\nvar z = " + Repeat("F(() => ", 40) + "0" + Repeat(")", 40) + ";\nx + y + z";
        Assert.Empty(CSharpEngine.Check(_dir.Write("ok.csx", code)));
        VNodeReport r = ScriptRun.Single("ok.csx", code);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal(601, Convert.ToInt32(r.Result, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("/dev/zero", "not a regular file (a character device); only regular files are read")]
    [InlineData("/dev/urandom", "not a regular file (a character device); only regular files are read")]
    public void EntrypointLinkedToADevice_IsOneProblem(string device, string reason)
    {
        string link = _dir.File("main.csx");
        File.CreateSymbolicLink(link, device);
        ScriptProblem p = Assert.Single(CSharpEngine.Check(link));
        Assert.Equal(reason, p.Message);
        Assert.Throws<ScriptCheckException>(() => CSharpEngine.Create(link, ScriptBudget.ForManifest(0.5, 16), _dir.File("cache"), CancellationToken.None));
        Assert.False(Directory.Exists(_dir.File("cache")) && Directory.EnumerateFiles(_dir.File("cache")).Any(), "something was cached");
    }

    [Fact]
    public void SiblingLinkedOutsideTheFolder_IsRefused_AndNothingOfItIsRead()
    {
        using var outside = new TempDir();
        string secret = outside.Write("secret.csx", "var leaked = \"the secret\";");
        _dir.Write("lib.csx", "// placeholder");
        File.Delete(_dir.File("lib.csx"));
        File.CreateSymbolicLink(_dir.File("lib.csx"), secret);
        ScriptProblem p = OneProblem("#load \"lib.csx\"\n1", "main.csx");
        Assert.Equal(1, p.At.Line);
        Assert.Contains("outside the script's folder", p.Message);
        Assert.Throws<ScriptCheckException>(() => CSharpEngine.Create(_dir.File("main.csx"), ScriptBudget.ForManifest(0.5, 16), _dir.File("cache"), CancellationToken.None));
    }

    [Fact]
    public void SiblingLinkedThroughALinkedFolder_IsRefused()
    {
        using var outside = new TempDir();
        outside.Write("secret.csx", "var leaked = 1;");
        Directory.CreateSymbolicLink(_dir.File("sub"), outside.Path);
        File.CreateSymbolicLink(_dir.File("lib.csx"), Path.Combine(_dir.File("sub"), "secret.csx")); // looks inside, is not
        Assert.Contains("outside the script's folder", OneProblem("#load \"lib.csx\"\n1", "main.csx").Message);
    }

    [Fact]
    public void SiblingLinkedInsideTheFolder_Loads()
    {
        _dir.Write("real/lib.csx", "var shared = 41;");
        File.CreateSymbolicLink(_dir.File("lib.csx"), _dir.File("real/lib.csx"));
        Assert.Empty(CSharpEngine.Check(_dir.Write("main.csx", "#load \"lib.csx\"\nshared + 1")));
    }

    [Theory]
    [InlineData("device")]
    [InlineData("fifo")]
    [InlineData("loop")]
    [InlineData("folder")]
    [InlineData("deep")]
    public async Task SiblingThatIsNotAReadableScript_IsOneProblemAtTheLoad(string kind)
    {
        string lib = _dir.File("lib.csx");
        switch (kind)
        {
            case "device": File.CreateSymbolicLink(lib, "/dev/zero"); break;
            case "fifo": NicscriptProcess.MakeFifo(lib); break;
            case "loop": File.CreateSymbolicLink(lib, _dir.File("lib2.csx")); File.CreateSymbolicLink(_dir.File("lib2.csx"), lib); break;
            case "folder": Directory.CreateDirectory(lib); break;
            case "deep": _dir.Write("lib.csx", "var z = " + Repeat("(", 100_000) + "1" + Repeat(")", 100_000) + ";"); break;
        }
        ScriptProblem p = await Task.Run(() => OneProblem("#load \"lib.csx\"\n1", "main.csx")).WaitAsync(TimeSpan.FromSeconds(60)); // a check that blocked times out
        Assert.Equal(1, p.At.Line);
        Assert.Contains("lib.csx", p.Message);
    }

    [Fact]
    public void ScriptOverTheSizeLimit_IsRefused_JustUnderCompiles()
    {
        string head = "var x = 1;\n";
        string under = _dir.Write("under.csx", head + "//" + new string('x', InputFile.MaxScriptBytes - head.Length - 3) + "\n");
        Assert.Equal(InputFile.MaxScriptBytes, new FileInfo(under).Length);
        Assert.Empty(CSharpEngine.Check(under));
        string over = _dir.Write("over.csx", head + "//" + new string('x', InputFile.MaxScriptBytes - head.Length - 2) + "\n");
        Assert.Equal("larger than 16 MiB, the limit for scripts", Assert.Single(CSharpEngine.Check(over)).Message);
    }
}
