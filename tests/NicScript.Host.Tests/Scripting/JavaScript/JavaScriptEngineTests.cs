using System.Diagnostics;
using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting.JavaScript;

public sealed class JavaScriptEngineTests
{
    [Fact]
    public void Run_LastExpression_IsTheResult()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const b = dma.alloc(64); b.writeText(0, 'hi'); b.readText(0, 2) + '!';");
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal("hi!", r.Result);
    }

    [Fact]
    public void Globals_AreCamelCaseViewsOfTheSameObjects()
    {
        VNodeReport r = ScriptRun.Single("t.js", "[typeof vnode, typeof pci, typeof irq, typeof dma, typeof share, typeof ipc, typeof log, typeof metrics, vnode.name].join(',')");
        Assert.Equal("object,object,object,object,object,object,object,object,script-test", r.Result);
    }

    [Theory]
    [InlineData("typeof pci.GetType")]
    [InlineData("typeof pci.getType")]
    [InlineData("typeof dma.alloc(8).region")]         // internal members stay hidden
    [InlineData("typeof importNamespace")]
    [InlineData("typeof System")]
    [InlineData("typeof require")]
    public void ClrSurface_BeyondScriptApi_IsUndefined(string expression)
    {
        VNodeReport r = ScriptRun.Single("t.js", expression);
        Assert.Equal("undefined", r.Result);
    }

    [Fact]
    public void Eval_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("t.js", "eval('1+1')");
        Assert.Equal(VNodeStatus.Failed, r.Status);
    }

    [Fact]
    public void SyntaxError_ReportsFileLineColumn()
    {
        var e = Assert.Throws<NicScript.Host.Scripting.ScriptCheckException>(() => ScriptRun.Run("bad.js", "let a = 1;\nlet b = ;\n"));
        Assert.EndsWith("bad.js:2:9: error: Unexpected token ';'", e.Message);
    }

    [Fact]
    public void RuntimeError_ReportsScriptLineAndOneLineReason()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const x = 1;\nnull.foo;\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.StartsWith("t.js:2:", Path.GetFileName(r.Error!));
        Assert.DoesNotContain("\n", r.Error);
    }

    [Fact]
    public void DeniedCall_IsCatchableAndNamesCapability()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let m; try { irq.register(5, e => {}); } catch (e) { m = e.message; } m");
        Assert.Equal("CAP_IRQ_REGISTER 5 not granted to script-test", r.Result);
    }

    [Fact]
    public void DeniedCall_Uncaught_FailsAtItsLine()
    {
        RunReport report = ScriptRun.Run("t.js", "log.info('a');\n\npci.open('00:02.0');\n");
        VNodeReport r = report.VNodes.Single();
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("t.js:3:1: ", r.Error);
        Assert.Contains("CAP_HARDWARE_IO_PCI 0000:00:02.0 not granted to script-test", r.Error);
        var d = Assert.Single(report.Denials);
        Assert.Equal((3, 1), (d.At.Line, d.At.Column));
    }

    [Fact]
    public void InfiniteLoop_UnderSmallShare_IsStoppedQuickly()
    {
        VNodeReport r = ScriptRun.Single("t.js", "while (true) {}", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("CPU budget exceeded", r.Error);
        Assert.Contains("limit of 2100 ms", r.Error); // CPU time, not wall time: a busy host does not shorten it
        Assert.Contains("t.js:1:", r.Error);
    }

    [Fact]
    public void EndlessRecursion_IsStoppedWithoutCrashingTheHost()
    {
        VNodeReport r = ScriptRun.Single("t.js", "function f(n) { return f(n + 1) + 1; }\nf(0);", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("recursion", r.Error);
    }

    [Fact]
    public void EndlessAllocation_IsStoppedAtMemoryLimit()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const a = []; while (true) a.push(new Array(10000).fill(1));", share: 1, memMb: 8);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("memory", r.Error);
    }
}
