namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>
/// Issue 17 class D: Jint's built-ins recurse natively over a structure a script builds in a loop. Each must end in a
/// RangeError the script can catch (or its one-line failure), never a stack overflow that takes the host down. Run as
/// a child process, so a regression kills only the child and shows as its exit code.
/// </summary>
public sealed partial class JavaScriptDeepStructureTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Builders a script can loop over (<c>x</c> is the structure), then the built-in that walks it.</summary>
    [Theory]
    [InlineData("x = [x]", "JSON.stringify(x)")]
    [InlineData("x = {x}", "JSON.stringify(x)")]
    [InlineData("x = [x]", "JSON.stringify(x, null, 2)")]
    [InlineData("x = [x]", "JSON.stringify(x, (k, v) => v)")]
    [InlineData("x = [x]", "x.flat(Infinity)")]
    [InlineData("x = [x]", "x.join(',')")]
    [InlineData("x = [x]", "x.toString()")]
    [InlineData("x = [x]", "x.toLocaleString()")]
    [InlineData("x = [x]", "String(x)")]
    [InlineData("x = [x]", "`${x}`")]
    [InlineData("x = [x]", "x + ''")]
    [InlineData("x = [x]", "Number(x)")]
    [InlineData("x = [x]", "new Error(x)")]
    [InlineData("x = [x]", "log.info(x)")]                              // a host call converts its argument
    [InlineData("x = [x]", "dma.alloc(8).write(0, x)")]
    [InlineData("x = new Proxy(x, {})", "x.y")]
    [InlineData("x = new Proxy(x, {})", "JSON.stringify(x)")]
    [InlineData("x = new Proxy(x, {})", "Object.keys(x)")]
    [InlineData("x = x.bind(null)", "x()")]
    [InlineData("x = x.bind(null)", "new x()")]
    [InlineData("x = Object.create(x)", "x.missing")]
    [InlineData("x = Object.create(x)", "JSON.stringify(x)")]
    [InlineData("{ const q = x; x = { get y() { return q.y; } }; }", "x.y")]
    [InlineData("{ const q = x; x = (function* () { yield* q; })(); }", "[...x]")]
    [InlineData("{ const q = x; x = { toString() { return String(q); } }; }", "String(x)")]
    public void DeepStructure_BuiltInWalkingIt_IsACatchableError(string build, string walk)
    {
        string script = $$"""
            let x = [];
            if ('{{build}}'.includes('bind')) x = function () { return 1; };
            if ('{{build}}'.includes('yield')) x = (function* () { yield 1; })();
            for (let i = 0; i < 100000; i++) {{build}};
            let seen;
            try { {{walk}}; seen = 'no error'; } catch (e) { seen = e.name + ': ' + e.message; }
            log.info('SEEN ' + seen);
            {{walk}};
            """;
        var (exit, output, error) = ChildCli.RunScript(_dir, script);
        Assert.True(exit is 0 or 1, $"exit {exit}: {Tail(error)}");
        if (exit == 1)
        {
            string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !LogLine().IsMatch(l));
            Assert.Matches(@"deep\.js(:\d+:\d+)?: ", line); // a budget failure inside a built-in may have no line
        }
        Assert.DoesNotContain("Stack overflow", error + output);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void DeepArray_CaughtByTheScript_SeesRangeErrorAndRunsOn()
    {
        var (exit, output, error) = ChildCli.RunScript(_dir, """
            let x = [];
            for (let i = 0; i < 100000; i++) x = [x];
            let r = [];
            for (const f of [() => x.flat(Infinity), () => log.info(x), () => dma.alloc(8).write(0, x)])
              try { f(); r.push('none'); } catch (e) { r.push(e instanceof RangeError ? 'RangeError' : e.name); }
            log.info('RESULT ' + r.join(','));
            """);
        // the walks that take a second to exhaust a 16 MB stack (JSON.stringify, join) are in the theory above, where a
        // budget failure is an accepted outcome; these three fail in milliseconds, so the script always gets to catch them
        Assert.True(exit == 0, $"exit {exit}: {Tail(error)}");
        Assert.Contains("RESULT RangeError,RangeError,RangeError", output + error);
    }

    /// <summary>Ten million levels, built over timer calls (each within its own budget), then walked: still an error, not a crash.</summary>
    [Fact]
    public void TenMillionDeep_JsonStringifyAndFlat_EndInAnError()
    {
        var (exit, output, error) = ChildCli.RunScript(_dir, """
            let x = [], d = 0;
            const t = vnode.every(1, () => {
              for (let k = 0; k < 200000 && d < 10000000; k++, d++) x = [x];
              if (d < 10000000) return;
              vnode.cancel(t);
              let r = [];
              for (const f of [() => x.flat(Infinity), () => log.info(x)])
                try { f(); r.push('none'); } catch (e) { r.push(e.name); }
              log.info('RESULT ' + r.join(','));
            });
            """, memMb: 4096);
        Assert.True(exit is 0 or 1, $"exit {exit}: {Tail(error)}");
        Assert.DoesNotContain("Stack overflow", error + output);
        if ((output + error).Contains("RESULT")) Assert.Contains("RESULT RangeError,RangeError", output + error);
    }

    [Fact]
    public void Repl_Piped_DeepJsonStringify_IsAnErrorLineAndTheSessionGoesOn()
    {
        var (exit, output, error) = ChildCli.Run(
            "let x = []; for (let i = 0; i < 100000; i++) x = [x];\nJSON.stringify(x)\nx.flat(Infinity)\nString(x)\n1 + 41\n",
            "repl", "--lang", "js", "--keep-going");
        Assert.True(exit is 0 or 1, $"exit {exit}: {Tail(error)}");
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("error: ") && l.Contains("RangeError: Maximum call stack size exceeded")));
        Assert.Contains("42", output.Split('\n').Select(l => l.Trim()));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d+ ")]
    private static partial System.Text.RegularExpressions.Regex LogLine();

    private static string Tail(string s) => s.Length > 2000 ? s[^2000..] : s;
}
