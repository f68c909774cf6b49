using System.Diagnostics;
using System.Reflection;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Tests.Scripting.CSharp;

public sealed class CSharpEngineTests
{
    [Fact]
    public void Run_LastExpression_IsTheResult()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "var b = Dma.Alloc(64);\nb.WriteText(0, \"hi\");\nb.ReadText(0, 2) + \"!\"");
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal("hi!", r.Result);
    }

    [Fact]
    public void RuntimeError_ReportsScriptLineAndOneLineReason()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "var x = 0;\nvar y = 10 / x;\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("t.csx:2:", r.Error);
        Assert.Contains("DivideByZeroException", r.Error);
        Assert.DoesNotContain("\n", r.Error);
    }

    [Fact]
    public void DeniedCall_FailsAtItsLine_AndIsAudited()
    {
        RunReport report = ScriptRun.Run("t.csx", "Log.Info(\"a\");\n\nIrq.Register(5, e => { });\n");
        VNodeReport r = report.VNodes.Single();
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("t.csx:3:", r.Error);
        Assert.Contains("CAP_IRQ_REGISTER 5 not granted to script-test", r.Error);
        Assert.Equal(3, Assert.Single(report.Denials).At.Line);
    }

    [Fact]
    public void InfiniteLoop_UnderSmallShare_IsStoppedQuickly()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "while (true) { }", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("CPU budget exceeded", r.Error);
        Assert.Contains("limit of 2100 ms", r.Error); // CPU time, not wall time: a busy host does not shorten it
        Assert.Contains("t.csx:1:", r.Error);
    }

    [Fact]
    public void EndlessRecursion_IsStoppedWithoutCrashingTheHost()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "int F(int n) => F(n + 1) + 1;\nF(0)", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("recursion too deep", r.Error);
    }

    [Fact]
    public void RecursionThroughLambda_IsStopped()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "Func<int, int> f = null!;\nf = n => f(n + 1);\nf(0)", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
    }

    [Fact]
    public void GotoLoop_IsStopped()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "var i = 0;\nagain: i++;\ngoto again;", share: 0.05);
        Assert.Contains("CPU budget exceeded", r.Error);
    }

    [Fact]
    public void CatchingTheBudgetException_DoesNotKeepTheScriptRunning()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "var n = 0;\ntry { while (true) { n++; } } catch (Exception) { }\nwhile (true) { n++; }", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("CPU budget exceeded", r.Error);
    }

    [Fact]
    public void SwallowingTheBudgetException_StillFails()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "try { while (true) { } } catch { }\n\"escaped\"", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Null(r.Result);
    }

    [Fact]
    public void EndlessAllocation_IsStoppedAtMemoryLimit()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "var l = new List<byte[]>();\nwhile (true) l.Add(new byte[1 << 20]);", share: 1, memMb: 16);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("memory budget exceeded", r.Error);
    }

    [Fact]
    public void Compile_SecondTime_ComesFromCacheWithSameResult()
    {
        using var dir = new TempDir();
        string cache = dir.File("cache");
        const string code = "Enumerable.Range(1, 10).Sum()";
        VNodeReport first = ScriptRun.Run("t.csx", code, cacheDir: cache, inDir: dir).VNodes.Single();
        Assert.Single(Directory.GetFiles(cache, "*.dll"));
        DateTime written = File.GetLastWriteTimeUtc(Directory.GetFiles(cache, "*.dll")[0]);
        VNodeReport second = ScriptRun.Run("t.csx", code, cacheDir: cache, inDir: dir).VNodes.Single();
        Assert.Equal(written, File.GetLastWriteTimeUtc(Directory.GetFiles(cache, "*.dll")[0]));
        Assert.Equal(55, first.Result);
        Assert.Equal(55, second.Result);
        Assert.Single(Directory.GetFiles(cache, "*.dll"));
    }

    [Fact]
    public void CacheKey_ChangesWithALoadedSibling()
    {
        using var dir = new TempDir();
        string main = dir.Write("main.csx", "#load \"lib.csx\"\nAnswer()");
        dir.Write("lib.csx", "int Answer() => 41;");
        string before = ScriptCache.Key(main);
        dir.Write("lib.csx", "int Answer() => 42;");
        Assert.NotEqual(before, ScriptCache.Key(main));
    }

    [Fact]
    public void Create_FromCache_IsFromCacheAndRunsLoadedSibling()
    {
        using var dir = new TempDir();
        string main = dir.Write("main.csx", "#load \"lib.csx\"\nAnswer()");
        dir.Write("lib.csx", "int Answer() => 42;");
        var budget = ScriptBudget.ForManifest(0.5, 16);
        using CSharpEngine cold = CSharpEngine.Create(main, budget, dir.File("cache"), CancellationToken.None);
        using CSharpEngine warm = CSharpEngine.Create(main, budget, dir.File("cache"), CancellationToken.None);
        Assert.False(cold.FromCache);
        Assert.True(warm.FromCache);
    }

    [Fact]
    public void Create_CorruptedCacheFile_IsRecompiled()
    {
        using var dir = new TempDir();
        string main = dir.Write("main.csx", "6 * 7");
        var cache = new ScriptCache(dir.File("cache"));
        var budget = ScriptBudget.ForManifest(0.5, 16);
        CSharpEngine.Create(main, budget, cache.Directory, CancellationToken.None).Dispose();
        File.WriteAllBytes(cache.AssemblyPath(ScriptCache.Key(main)), [1, 2, 3]);
        using CSharpEngine again = CSharpEngine.Create(main, budget, cache.Directory, CancellationToken.None);
        Assert.False(again.FromCache);
    }

    [Fact]
    public void CompiledAssembly_IsOptimized()
    {
        using var dir = new TempDir();
        string main = dir.Write("main.csx", "1");
        var cache = new ScriptCache(dir.File("cache"));
        CSharpEngine.Create(main, ScriptBudget.ForManifest(0.5, 16), cache.Directory, CancellationToken.None).Dispose();
        Assembly asm = System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyPath(cache.AssemblyPath(ScriptCache.Key(main)));
        var debuggable = asm.GetCustomAttribute<DebuggableAttribute>();
        Assert.False(debuggable?.IsJITOptimizerDisabled ?? false);
    }
}
