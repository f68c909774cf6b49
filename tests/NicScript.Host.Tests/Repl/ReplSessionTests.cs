using NicScript.Driver;
using NicScript.Host.Cli;
using NicScript.Host.Manifests;
using NicScript.Host.Repl;
using Serilog;
using Spectre.Console;

namespace NicScript.Host.Tests.Repl;

/// <summary>The REPL driven through its input and output streams, as a piped session.</summary>
public sealed class ReplSessionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out) Repl(string lang, string input, bool keepGoing = false, string? manifest = null)
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        int exit = new ReplCommand(cli).Execute(lang, manifest, null, null, keepGoing, new StringReader(input), scripted: true);
        return (exit, output.ToString());
    }

    [Theory]
    [InlineData("js", "function twice(x) {\n  return x * 2;\n}\ntwice(21)\n")]
    [InlineData("cs", "int Twice(int x)\n{\n    return x * 2;\n}\nTwice(21)\n")]
    public void MultiLineInput_IsReadUntilComplete(string lang, string input) =>
        Assert.Equal("42", Repl(lang, input).Out.Trim());

    [Theory]
    [InlineData("js", "const b = dma.alloc(64);\ngdma.encode(b, 0, \"gdma_cqe\", { \"cqe_data[0]\": 1, \"cqe_info.wq_num\": 5, \"cqe_info.is_sq\": 1, \"cqe_info.owner_bits\": 2 });\ngdma.decode(b, 0, \"gdma_cqe\")\n")]
    [InlineData("cs", "var b = Dma.Alloc(64);\nGdma.Encode(b, 0, \"gdma_cqe\", new Dictionary<string, ulong> { [\"cqe_data[0]\"] = 1, [\"cqe_info.wq_num\"] = 5, [\"cqe_info.is_sq\"] = 1, [\"cqe_info.owner_bits\"] = 2 });\nGdma.Decode(b, 0, \"gdma_cqe\")\n")]
    public void DecodedCqe_ShowsAsAFieldTable(string lang, string input)
    {
        string[] lines = Repl(lang, input).Out.Trim().Split('\n').Select(l => l.TrimEnd()).ToArray();
        Assert.Contains("gdma_cqe", lines);
        Assert.Contains(lines, l => l.Trim().StartsWith("cqe_info.wq_num") && l.EndsWith("5  0x5"));
        Assert.Contains(lines, l => l.Trim().StartsWith("cqe_info.owner_bits") && l.EndsWith("2  0x2"));
        Assert.Contains(lines, l => l.Trim().StartsWith("cqe_data[14]"));
        Assert.DoesNotContain(lines, l => l.Contains("reserved"));
    }

    [Theory]
    [InlineData("js", "let n = 40;\nn += 2;\nn\n")]
    [InlineData("cs", "var n = 40;\nn += 2;\nn\n")]
    public void State_PersistsAcrossInputs(string lang, string input) =>
        Assert.EndsWith("42", Repl(lang, input).Out.Trim());

    [Fact]
    public void Error_EndsAPipedSessionWithExitOne()
    {
        var (exit, output) = Repl("js", "1 + 1\nnull.x\n3 + 3\n");
        Assert.Equal(1, exit);
        Assert.Equal(["2"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("error")));
        Assert.Contains("error: repl:1:", output);
    }

    [Fact]
    public void Error_WithKeepGoing_SessionContinues()
    {
        var (exit, output) = Repl("js", "null.x\n3 + 3\n", keepGoing: true);
        Assert.Equal(0, exit);
        Assert.EndsWith("6", output.Trim());
    }

    [Theory]
    [InlineData("js", "irq.register(5, e => 1)\n\"still here\"\n")]
    [InlineData("cs", "Irq.Register(5, e => { });\n\"still here\"\n")]
    public void DeniedCall_PrintsTheCapabilityError_AndContinues(string lang, string input)
    {
        var (_, output) = Repl(lang, input, keepGoing: true);
        Assert.Contains("CAP_IRQ_REGISTER 5 not granted to repl", output);
        Assert.EndsWith("still here", output.Trim());
    }

    [Fact]
    public void DotCommands_EachAnswers()
    {
        string pcap = _dir.File("s.pcap");
        string load = _dir.Write("load.js", "const loaded = 7;");
        var (exit, output) = Repl("js", $".help\n.caps\n.devices\n.stats\n.pcap start {pcap}\n.pcap stop\n.load {load}\nloaded\n.lang cs\n1 + 2\n.reset\n.exit\n\"never\"\n");
        Assert.Equal(0, exit);
        Assert.Contains(".save FILE", output);                               // .help
        Assert.Contains("CAP_HARDWARE_IO_PCI 0000:00:1f.0", output);         // .caps
        Assert.Contains("00:1f.0 [020000] 1af4:1000", output);               // .devices
        Assert.Contains("virtio-net: tx 0", output);                         // .stats
        Assert.Contains("capture stopped: 0 frame(s)", output);              // .pcap
        Assert.True(File.Exists(pcap));
        Assert.Contains("7", output);                                        // .load
        Assert.Contains("language: cs", output);                             // .lang
        Assert.Contains("3", output);
        Assert.Contains("reset: fresh variables", output);                   // .reset
        Assert.DoesNotContain("never", output);                              // .exit
    }

    [Theory]
    [InlineData("js", "const b = dma.alloc(64);\nb.writeText(0, \"saved state\");\nnull.oops\nlet copy = b.readText(0, 11);\n", "copy")]
    [InlineData("cs", "var b = Dma.Alloc(64);\nb.WriteText(0, \"saved state\");\nvar copy = b.ReadText(0, 11);\n", "copy")]
    public void Save_WritesTheAcceptedInputs_ThatReRunToTheSameState(string lang, string inputs, string variable)
    {
        string saved = _dir.File("session." + lang);
        Repl(lang, inputs + $".save {saved}\n", keepGoing: true);
        string script = File.ReadAllText(saved);
        Assert.DoesNotContain("oops", script); // only what worked
        var (exit, output) = Repl(lang, script + variable + "\n");
        Assert.Equal(0, exit);
        Assert.EndsWith("saved state", output.Trim());
    }

    [Fact]
    public void Completion_GlobalsMembersVariablesAndCommands_InBothLanguages()
    {
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var js = new ReplSession(machine, ReplSession.GrantEverything(machine), ScriptLanguage.JavaScript, new StringWriter(), log);
        js.Submit("const myBuffer = 1;");
        Assert.Equal(["dma"], js.Complete("dm"));
        Assert.Equal(["dma.alloc"], js.Complete("const b = dma.al"));
        Assert.Contains("myBuffer", js.Complete("my"));
        Assert.Equal([".save", ".stats"], js.Complete(".s"));
        js.Submit(".lang cs");
        Assert.Equal(["Dma"], js.Complete("Dm"));
        Assert.Equal(["Dma.Alloc"], js.Complete("var b = Dma.Al"));
        js.Submit("var myCount = 3;");
        Assert.Contains("myCount", js.Complete("myC"));
    }
}
