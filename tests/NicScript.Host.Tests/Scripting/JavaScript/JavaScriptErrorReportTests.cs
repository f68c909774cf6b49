using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>A script's failure points right: a TypeError names the expression as Node does, and a runaway is the CPU
/// budget at the line that was running (not the memory budget, which Jint's own number boxing used to trip first).</summary>
public sealed class JavaScriptErrorReportTests
{
    [Theory]
    [InlineData("const nic = { rx() {} };\nnic.transmit(1);\n", "t.js:2:1: TypeError: nic.transmit is not a function")]
    [InlineData("const o = { a: {} };\nlet n = 0;\no.a.send(\n  n);\n", "t.js:3:1: TypeError: o.a.send is not a function")]
    [InlineData("var g = 1;\ng();\n", "t.js:2:1: TypeError: g is not a function")]
    [InlineData("const list = [1];\nlist[0]();\n", "t.js:2:1: TypeError: list[0] is not a function")]
    [InlineData("let u;\nu.foo();\n", "t.js:2:1: TypeError: Cannot read properties of undefined (reading 'foo')")]
    [InlineData("const n = null;\nn.y;\n", "t.js:2:3: TypeError: Cannot read properties of null (reading 'y')")]
    [InlineData("function f() {\n  return dma.allocate(8);\n}\nf();\n", "t.js:2:10: TypeError: dma.allocate is not a function")]
    public void TypeError_NamesTheExpression_WithFileLineAndColumn(string script, string expected)
    {
        VNodeReport r = ScriptRun.Single("t.js", script);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.EndsWith("/" + expected, r.Error); // the script's path, then file:line:col: reason
    }

    [Fact]
    public void TypeError_TheScriptCatches_StillHasAMessage()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let m = '';\ntry { ({}).send(); } catch (e) { m = e.constructor.name + ':' + (e.message.length > 0); }\nm");
        Assert.Equal("TypeError:true", r.Result);
    }

    /// <summary>A runaway is stopped at the line it was on. Which budget stops it first depends on what the loop makes: Jint
    /// allocates a new object for every number past 10240 (and for every string and object), and the memory budget counts
    /// bytes allocated by the V-Node's thread — garbage too, as the issue asks; a process-wide "held" measure would let
    /// other V-Nodes' growth fail this one — so `x++` past 10240 usually meets the memory budget before a 100 ms CPU limit.</summary>
    [Theory]
    [InlineData("let x = 0;\nwhile (true) { x++ }\n", 2)]                                              // the loop: past 10240 every number is a new object in Jint
    [InlineData("let x = 0.5;\nfor (;;) x = x * 1.0000001 + 1;\n", 2)]
    [InlineData("let s = 0;\nfunction f(k) { if (k > 40) return 0; s++; f(k + 1); f(k + 1); }\nf(0);\n", 2)]
    [InlineData("const objs = [];\nfor (let i = 0; ; i++) { const o = { i, tag: 'x' + i }; if (objs.length < 10) objs.push(o); }\n", 2)]
    [InlineData("let y = 0;\nwhile (true) { y = (y + 1) % 100 }\n", 2)]                                 // small numbers only: nothing allocated, the CPU limit
    public void RunawayJavaScript_IsStoppedByItsBudget_AtTheLoopsLine(string script, int line)
    {
        VNodeReport r = ScriptRun.Single("t.js", script, share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Matches("CPU budget exceeded|memory budget exceeded", r.Error!);
        Assert.Contains($"/t.js:{line}:", r.Error);
    }

    [Fact]
    public void RunawayOnSmallNumbers_IsTheCpuBudget()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let y = 0;\nwhile (true) { y = (y + 1) % 100 }\n", share: 0.05);
        Assert.Contains("CPU budget exceeded", r.Error);
        Assert.Contains("/t.js:2:", r.Error);
    }

    [Fact]
    public void RunawayRecursion_IsReportedAtTheRecursiveCall()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let n = 0;\nfunction down(k) {\n  return down(k + 1) + 1;\n}\ndown(0);\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("/t.js:3:", r.Error);
        Assert.Contains("recursion too deep", r.Error);
    }

    [Fact]
    public void HoldingMoreThanTheBudget_IsStillTheMemoryBudget()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const keep = [];\nfor (let i = 0; ; i++) keep.push({ i, pad: [i, i, i, i] });\n", share: 0.5, memMb: 4);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("/t.js:2:", r.Error);
        Assert.Contains("memory budget exceeded", r.Error);
    }
}
