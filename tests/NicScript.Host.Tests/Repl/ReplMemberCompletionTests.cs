using NicScript.Driver;
using NicScript.Host.Manifests;
using NicScript.Host.Repl;
using Serilog;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NicScript.Host.Tests.Repl;

/// <summary>Tab's candidates for members, asked of the session directly: what JavaScript offers comes from the value
/// without running any of the script's code; C# asks Roslyn.</summary>
public sealed class ReplMemberCompletionTests
{
    [Fact]
    public void JavaScript_Members_NeverCallAGetterOrAProxyTrap()
    {
        using var machine = DefaultMachine.Create();
        var output = new StringWriter();
        using var js = new ReplSession(machine, ReplSession.GrantEverything(machine), ScriptLanguage.JavaScript, output, new LoggerConfiguration().CreateLogger());
        js.Submit("var calls = 0; const o = { get lazy() { calls++; return { x: 1 }; }, data: { inner: 1, other: 2 } };");
        js.Submit("const p = new Proxy({}, { ownKeys() { calls++; return []; }, getPrototypeOf() { calls++; return null; }, get() { calls++; } });");
        js.Submit("class Shape { area() { return 0; } } let sq = new Shape(); sq.side = 2;");
        Assert.Equal(["o.data", "o.lazy"], js.Complete("o.").Where(c => !c.StartsWith("o.__") && c is not "o.constructor" and not "o.hasOwnProperty" and not "o.isPrototypeOf" and not "o.propertyIsEnumerable" and not "o.toLocaleString" and not "o.toString" and not "o.valueOf"));
        Assert.Equal(["o.data.inner"], js.Complete("o.data.in"));
        Assert.Empty(js.Complete("o.lazy."));          // through an accessor: its getter is not called
        Assert.Empty(js.Complete("p."));               // a proxy: its traps are not run
        Assert.Equal(["sq.area", "sq.side"], js.Complete("x = sq.").Where(c => c is "sq.area" or "sq.side")); // own and prototype
        js.Submit("let s = 'abc';");
        Assert.Contains("s.toUpperCase", js.Complete("s.toU"));
        Assert.True(js.Submit("if (calls !== 0) throw new Error('a getter or trap ran: ' + calls);"), output.ToString());
    }

    [Fact]
    public void JavaScript_Members_OfAHandle_OfferAnAssignedPropertyAndPrintIt()
    {
        using var machine = DefaultMachine.Create();
        var output = new StringWriter();
        using var js = new ReplSession(machine, ReplSession.GrantEverything(machine), ScriptLanguage.JavaScript, output, new LoggerConfiguration().CreateLogger());
        Assert.True(js.Submit("dpu.noThrow = true;"), output.ToString());
        Assert.Equal(["dpu.noThrow"], js.Complete("dpu.no"));
        Assert.Empty(js.Complete("dpu.setNo"));
        output.GetStringBuilder().Clear();
        Assert.True(js.Submit("dpu.noThrow"), output.ToString());
        Assert.Equal("true", output.ToString().Trim());
    }

    [Fact]
    public void CSharp_Members_OfAVariableFromAnEarlierSubmission()
    {
        using var machine = DefaultMachine.Create();
        using var cs = new ReplSession(machine, ReplSession.GrantEverything(machine), ScriptLanguage.CSharp, new StringWriter(), new LoggerConfiguration().CreateLogger());
        cs.Submit("var nic = Net.Open(\"00:1f.0\");");
        cs.Submit("var b = nic.Up().Burst();");
        Assert.Equal(["nic.Mac"], cs.Complete("nic.Ma"));
        Assert.Equal(["b.Take"], cs.Complete("var f = b.Ta"));
        Assert.Contains("Net.Open", cs.Complete("Net."));
    }
}
