using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.JavaScript;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>JavaScript sources that would take Acornima or Jint off their stack: one problem each, with its place.</summary>
public sealed class JavaScriptInputLimitsTests
{
    private static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    public static TheoryData<string, string> DeepSources => new()
    {
        { "arrays", "var x = " + Repeat("[", 100_000) + Repeat("]", 100_000) + ";" },
        { "objects", "var x = " + Repeat("{a:", 100_000) + "1" + Repeat("}", 100_000) + ";" },
        { "parentheses", "var x = " + Repeat("(", 100_000) + "1" + Repeat(")", 100_000) + ";" },
        { "functions", Repeat("function f(){", 100_000) + Repeat("}", 100_000) },
        { "arrows", "var f = " + Repeat("a => ", 100_000) + "1;" },
        { "plus chain", "var a = 1;\nvar x = " + string.Join('+', Enumerable.Repeat("a", 100_000)) + ";" },
        { "string chain", "var x = " + string.Join(" + ", Enumerable.Repeat("'s'", 50_000)) + ";" },
        { "conditional chain", "var c = true;\nvar x = " + Repeat("c ? 1 : ", 50_000) + "0;" },
        { "unary chain", "var x = " + Repeat("!", 100_000) + "1;" },
        { "template holes", "var x = " + Repeat("`${", 50_000) + "1" + Repeat("}`", 50_000) + ";" },
        { "member chain", "var o = {};\nvar x = o" + Repeat(".a", 100_000) + ";" },
    };

    [Theory]
    [MemberData(nameof(DeepSources))]
    public void DeepSource_IsOneProblemWithItsPlace(string what, string code)
    {
        ScriptProblem? p = JavaScriptEngine.Check("deep.js", code);
        Assert.NotNull(p);
        Assert.True(p.At.Line > 0, what + ": " + p);
        Assert.StartsWith("nesting too deep", p.Message);
        Assert.DoesNotContain('\n', p.ToString());
    }

    [Fact]
    public void NestingJustUnderTheLimits_Runs()
    {
        string code = "var a = 1;\nvar x = " + Repeat("[", 100) + Repeat("]", 100) + ";\nvar y = " + string.Join('+', Enumerable.Repeat("a", 150)) +
            ";\nvar o = " + Repeat("{a:", 60) + "1" + Repeat("}", 60) + ";\nJSON.stringify(x).length + y";
        Assert.Null(JavaScriptEngine.Check("ok.js", code));
        VNodeReport r = ScriptRun.Single("ok.js", code);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal(350.0, Convert.ToDouble(r.Result, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void IncompleteCheck_OfDeepInput_IsFinished()
    {
        Assert.False(JavaScriptEngine.IsIncomplete(Repeat("[", 100_000)));
        Assert.True(JavaScriptEngine.IsIncomplete("function f() {"));
    }
}
