namespace NicScript.Host.Tests.Repl;

/// <summary>A piped REPL fed input that crashed or hung it: each bad input is one error line and the session goes on
/// (<c>--keep-going</c>) or ends with exit 1 — never a dead process. Run as a real process: a crash must not take the tests.</summary>
public sealed class ReplInputLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (int Exit, string Out, string Err) Repl(string lang, string input, bool keepGoing) =>
        NicscriptProcess.Run(_dir.Path, input, TimeSpan.FromSeconds(120), keepGoing ? ["repl", "--lang", lang, "--keep-going"] : ["repl", "--lang", lang]);

    private static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    public static TheoryData<string, string, string> BadInputs()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string lang in new[] { "js", "cs" })
        {
            data.Add(lang, ".load /dev/zero", "error: /dev/zero: not a regular file (a character device)");
            data.Add(lang, ".load /dev/urandom", "error: /dev/urandom: not a regular file (a character device)");
            data.Add(lang, ".load /tmp", "error: /tmp: is a folder, not a file");
            data.Add(lang, "var d = " + Repeat("(", 100_000) + "1" + Repeat(")", 100_000) + ";", "nesting too deep");
            data.Add(lang, "var d = " + Repeat("[", 100_000) + Repeat("]", 100_000) + ";", "nesting too deep");
            data.Add(lang, "var a = 1;\nvar d = " + string.Join('+', Enumerable.Repeat("a", 100_000)) + ";", "nesting too deep");
            data.Add(lang, "var c = true;\nvar d = " + Repeat("c ? 1 : ", 50_000) + "0;", "nesting too deep");
            data.Add(lang, "var s = \"" + new string('x', 2 * 1024 * 1024), "error: an input longer than 1 MiB");
        }
        data.Add("js", "var d = " + Repeat("{a:", 100_000) + "1" + Repeat("}", 100_000) + ";", "nesting too deep");
        data.Add("js", Repeat("function f(){", 50_000), "nesting too deep");
        data.Add("cs", "Func<int, int> f = " + Repeat("a => (", 100_000) + "a" + Repeat(")", 100_000) + ";", "nesting too deep");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_KeepGoing_IsOneErrorLine_AndTheSessionGoesOn(string lang, string bad, string error)
    {
        var (exit, output, err) = Repl(lang, bad + "\n40 + 2\n", keepGoing: true);
        Assert.Equal(0, exit);
        string[] lines = output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(error, lines[0]);
        Assert.Equal("42", lines[1].Trim());
        Assert.DoesNotContain("internal error", err);
    }

    [Theory]
    [InlineData("js", ".load /dev/zero")]
    [InlineData("cs", ".load /dev/zero")]
    [InlineData("js", "var d = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[")]
    public void BadInput_WithoutKeepGoing_EndsWithExitOne(string lang, string bad)
    {
        var (exit, output, err) = Repl(lang, bad + "\n40 + 2\n", keepGoing: false);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", output.Trim());
        Assert.DoesNotContain("42", output);
        Assert.DoesNotContain("internal error", err);
    }

    [Fact]
    public void LoadOfAFifo_DoesNotWait()
    {
        string fifo = _dir.File("pipe.js");
        NicscriptProcess.MakeFifo(fifo);
        var (exit, output, _) = Repl("js", $".load {fifo}\n40 + 2\n", keepGoing: true);
        Assert.Equal(0, exit);
        Assert.Contains("not a regular file (a FIFO)", output);
        Assert.EndsWith("42", output.Trim());
    }

    [Fact]
    public void EndlessLine_OnStandardInput_IsBounded()
    {
        // What `nicscript repl < /dev/zero` reads: characters and no newline. Without --keep-going the first bound ends it.
        var (exit, output, _) = Repl("js", new string('\0', 3 * 1024 * 1024), keepGoing: false);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: an input longer than 1 MiB", output.Trim());
    }

    // The two below need the other halves of issue 17 (Jint built-ins' recursion, C# async void containment); they are
    // here so the piped REPL is checked end to end once those land.

    [Fact]
    public void DeepJsonStringify_IsAnErrorNotACrash()
    {
        var (exit, output, err) = Repl("js", "var a = []; for (let i = 0; i < 100000; i++) a = [a];\nJSON.stringify(a).length\n40 + 2\n", keepGoing: true);
        Assert.Equal(0, exit);
        Assert.Contains("error: ", output);
        Assert.EndsWith("42", output.Trim());
        Assert.DoesNotContain("internal error", err);
    }

    [Fact]
    public void AsyncVoidThatThrows_DoesNotEndTheProcess()
    {
        var (exit, output, err) = Repl("cs", "async void Boom() { await System.Threading.Tasks.Task.Yield(); throw new Exception(\"boom\"); }\nBoom();\n40 + 2\n", keepGoing: true);
        Assert.Equal(0, exit);
        Assert.EndsWith("42", output.Trim());
        Assert.DoesNotContain("internal error", err);
    }
}
