using NicScript.Host.Manifests;
using NicScript.Host.Scripting;

namespace NicScript.Host.Tests.Scripting;

/// <summary>The bracket count that runs before Roslyn and Acornima: what it counts, what it skips, where it points.</summary>
public sealed class SourceNestingTests
{
    private const int Max = SourceNesting.MaxBrackets;

    [Theory]
    [InlineData(ScriptLanguage.CSharp, '(', ')')]
    [InlineData(ScriptLanguage.CSharp, '[', ']')]
    [InlineData(ScriptLanguage.CSharp, '{', '}')]
    [InlineData(ScriptLanguage.JavaScript, '(', ')')]
    [InlineData(ScriptLanguage.JavaScript, '[', ']')]
    [InlineData(ScriptLanguage.JavaScript, '{', '}')]
    public void AtTheLimit_Passes_OneMore_IsRefusedAtThatBracket(ScriptLanguage language, char open, char close)
    {
        string Nest(int n) => "x = " + new string(open, n) + "1" + new string(close, n) + ";";
        Assert.Null(SourceNesting.FindTooDeep(Nest(Max), language));
        Assert.Equal((1, 5 + Max), SourceNesting.FindTooDeep(Nest(Max + 1), language));
        Assert.Equal((2, 5 + Max), SourceNesting.FindTooDeep("// one\n" + Nest(100_000), language));
    }

    [Theory]
    [InlineData(ScriptLanguage.CSharp, "var s = \"{0}\"; // {1}\n/* {2} */ char c = '('; var v = @\"\"\"{3}\"; var r = \"\"\"\n{4}\n\"\"\"; var i = $\"{{{{{5}}}}}\";")]
    [InlineData(ScriptLanguage.JavaScript, "var s = '{0}' + \"{1}\"; // {2}\n/* {3} */ var r = /[(]{4}/; var t = `{5}`;")]
    public void BracketsInStringsCommentsAndLiterals_DoNotCount(ScriptLanguage language, string template)
    {
        string deep = new('(', 1000);
        string code = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, deep, deep, deep, deep, deep, deep);
        Assert.Null(SourceNesting.FindTooDeep(code, language));
    }

    [Theory]
    [InlineData(ScriptLanguage.CSharp, "var s = $\"{", "}\";")]
    [InlineData(ScriptLanguage.JavaScript, "var s = `${", "}`;")]
    public void CodeInInterpolationHoles_Counts(ScriptLanguage language, string open, string close)
    {
        string Nest(int n) => string.Concat(Enumerable.Repeat(open, n)) + "1" + string.Concat(Enumerable.Repeat(close, n));
        Assert.Null(SourceNesting.FindTooDeep(Nest(Max), language));
        Assert.NotNull(SourceNesting.FindTooDeep(Nest(Max + 1), language));
    }

    [Fact]
    public void UnbalancedClosers_NeverGoBelowZero() =>
        Assert.Null(SourceNesting.FindTooDeep(new string(')', 10_000) + new string('(', Max), ScriptLanguage.CSharp));
}
