using System.Diagnostics;
using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary>The CLI as a user meets it: arguments in, text and an exit code out.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out, string Err) Nicscript(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        int exit = Program.RunAsync(new CliContext(console, output, error), args).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    private string Manifest(string name, string script, string code, string caps = "  - CAP_LOG_WRITE", double share = 0.5)
    {
        _dir.Write(script, code);
        return _dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, share: share));
    }

    private static string RepoFile(string relative) => Path.Combine(NicScript.Host.Tests.Repo.Root, relative);

    [Fact]
    public void Check_ValidManifest_ExitsZero()
    {
        var (exit, output, _) = Nicscript("check", RepoFile("manifests/hello.yml"));
        Assert.Equal(0, exit);
        Assert.Contains("ok", output);
    }

    [Fact]
    public void Check_BadIrq_NamesFileLineColumnAndExitsOne()
    {
        string path = Manifest("bad", "main.js", "", "  - CAP_IRQ_REGISTER: 300");
        var (exit, _, err) = Nicscript("check", path);
        Assert.Equal(1, exit);
        Assert.Contains($"{path}:10:23: error: CAP_IRQ_REGISTER: IRQ 300 out of range 0-255", err);
    }

    [Fact]
    public void Check_RefusedCSharp_NamesApiAndLine_AndListsEveryProblem()
    {
        string path = Manifest("cs", "s.csx", "var x = 1;\nvar t = System.IO.File.ReadAllText(\"x\");\nSystem.Diagnostics.Process.Start(\"sh\");\n");
        var (exit, _, err) = Nicscript("check", path);
        Assert.Equal(1, exit);
        Assert.Contains("s.csx:2:", err);
        Assert.Contains("System.IO.File", err);
        Assert.Contains("s.csx:3:", err);
        Assert.Contains("System.Diagnostics.Process", err);
    }

    [Fact]
    public void Run_RefusedCSharp_RunsNothingAndSaysWhyInOneLine()
    {
        string path = Manifest("cs", "s.csx", "Log.Info(\"RAN-FIRST-LINE\");\nvar t = typeof(int).Assembly;\n");
        var (exit, output, err) = Nicscript("run", path);
        Assert.Equal(1, exit);
        Assert.DoesNotContain("RAN-FIRST-LINE", err + output);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("s.csx:2:", line);
    }

    [Fact]
    public void Run_Json_IsOneObjectWithResultAndMetrics()
    {
        var (exit, output, _) = Nicscript("run", RepoFile("manifests/hello.yml"), "--json");
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement vnode = doc.RootElement.GetProperty("vnodes")[0];
        Assert.Equal("completed", vnode.GetProperty("status").GetString());
        Assert.Equal("hello, dma", vnode.GetProperty("result").GetString());
        Assert.Equal(1, vnode.GetProperty("metrics").GetProperty("greetings").GetProperty("value").GetDouble());
    }

    [Fact]
    public void Run_CSharpTwin_GivesTheSameResult()
    {
        var (exit, output, _) = Nicscript("run", RepoFile("manifests/hello-cs.yml"), "--json", "--cache", _dir.File("cache"));
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal("hello, dma", doc.RootElement.GetProperty("vnodes")[0].GetProperty("result").GetString());
    }

    [Fact]
    public void Run_DeniedCall_IsInTheAuditFile()
    {
        string path = Manifest("net-bridge", "nb.js", "irq.register(5, e => {});", "  - CAP_IRQ_REGISTER: 11");
        string audit = _dir.File("audit.jsonl");
        var (exit, _, err) = Nicscript("run", path, "--audit", audit);
        Assert.Equal(1, exit);
        Assert.Contains("CAP_IRQ_REGISTER 5 not granted to net-bridge", err);
        using JsonDocument line = JsonDocument.Parse(File.ReadAllLines(audit).Single());
        Assert.Equal(1, line.RootElement.GetProperty("line").GetInt32());
        Assert.Equal("nb.js", Path.GetFileName(line.RootElement.GetProperty("script").GetString()));
    }

    [Theory]
    [InlineData("spin.js", "while (true) {}")]
    [InlineData("spin.csx", "while (true) { }")]
    [InlineData("rec.js", "function f(n) { return f(n + 1); }\nf(0);")]
    [InlineData("rec.csx", "int F(int n) => F(n + 1);\nF(0)")]
    public void Run_RunawayScriptUnderSmallShare_IsStoppedByItsCpuLimit(string file, string code)
    {
        // The limit is CPU time (2.1 s for a top level under 0.05), so how long the run takes depends on the host's load, not
        // asserted here; the message names the limit that stopped it.
        string path = Manifest("spin", file, code, share: 0.05);
        var (exit, _, err) = Nicscript("run", path, "--cache", _dir.File("cache"));
        Assert.Equal(1, exit);
        Assert.Matches("CPU budget exceeded.*limit of 2100 ms|recursion too deep", err);
        Assert.DoesNotContain("   at ", err); // no stack trace for a user's mistake
    }

    [Fact]
    public void Run_MissingFile_IsOneLineExitOne()
    {
        var (exit, _, err) = Nicscript("run", _dir.File("nope.yml"));
        Assert.Equal(1, exit);
        Assert.Equal($"{_dir.File("nope.yml")}: error: file not found", err.Trim());
    }

    [Fact]
    public void Run_BadDuration_IsRefused()
    {
        var (exit, _, err) = Nicscript("run", RepoFile("manifests/hello.yml"), "--duration", "soon");
        Assert.Equal(1, exit);
        Assert.Contains("'soon' is not a duration", err);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    public void Help_EveryCommand_HasExamples(string command)
    {
        var (exit, output, _) = Nicscript(command, "--help");
        Assert.Equal(0, exit);
        Assert.Contains("Examples:", output);
        Assert.Contains("nicscript " + command, output);
    }
}
