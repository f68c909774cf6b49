using NicScript.Host.Cli;
using NicScript.Host.Runtime;
using Spectre.Console;

namespace NicScript.Host.Tests.Scripting;

/// <summary>A C# budget stop names the script line that was running, also when no check's stack can say (a library call
/// that allocates or spins past the limit and returns to straight-line code): the top-level statement that was running.</summary>
public sealed class ScriptBudgetStopLineTests
{
    [Theory]
    // found at the end of the invocation: nothing runs after the call
    [InlineData("Log.Info(\"start\");\nvar l = Enumerable.Range(0, 5_000_000).ToList();")]
    // found by the mark of the next statement: still the line that allocated, not the next one
    [InlineData("Log.Info(\"start\");\nvar l = Enumerable.Range(0, 5_000_000).ToList();\nLog.Info(\"after\");\nl.Count")]
    [InlineData("// a comment first\nvar s = new string('x', 30_000_000);\ns.Length")]
    public void StraightLineAllocation_CSharp_NamesTheLineThatRanOver(string code)
    {
        VNodeReport r = ScriptRun.Single("list.csx", code, share: 0.5, memMb: 16);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("memory budget exceeded", r.Error);
        Assert.Matches(@"(^|/)list\.csx:2:1: memory budget exceeded", r.Error);
    }

    [Fact]
    public void SpinningLoop_CSharp_KeepsItsColumn()
    {
        // The statement marks sit at the end of the line before, so a loop's stop keeps the column it had without them.
        VNodeReport r = ScriptRun.Single("t.csx", "var x = 0L;\nwhile (true) { x++; }", share: 0.05);
        Assert.Contains("CPU budget exceeded", r.Error);
        Assert.Matches(@"(^|/)t\.csx:2:16: CPU budget exceeded", r.Error);
    }

    [Fact]
    public void StraightLineAllocation_InTheCSharpRepl_NamesItsLine()
    {
        using var dir = new TempDir();
        dir.Write("main.js", "");
        string manifest = dir.Write("repl.yml", TestVNode.Manifest("repl", "  - CAP_LOG_WRITE", memMb: 4));
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        // one submission of two statements over two lines (the first line is incomplete); the second statement allocates past 4 MiB
        string input = "var a = 1; var b =\n    Enumerable.Range(0, 2_000_000).ToList();\n40 + 2\n";
        new ReplCommand(cli).Execute("cs", manifest, null, null, true, new StringReader(input), scripted: true);
        string text = output.ToString();
        Assert.Contains("repl:1:12: memory budget exceeded", text);
        Assert.Contains("42", text);
    }
}
