using System.Diagnostics;
using System.Text.Json;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Tests.Scripting.CSharp;

/// <summary>Class A of issue 17: what a C# script reaches is decided on its compiled IL, deny by default.</summary>
public sealed class ScriptAssemblyVerifierTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private IReadOnlyList<ScriptProblem> Check(string code) => CSharpEngine.Check(_dir.Write("s.csx", code));

    /// <summary>The IL check alone, on a script compiled without the source check (what would slip past it).</summary>
    private IReadOnlyList<ScriptProblem> VerifyIlOnly(string code)
    {
        string path = _dir.Write("il.csx", code);
        var compilation = CSharpScript.Create(code, CSharpScriptCompiler.Options(path), typeof(VNodeGlobals)).GetCompilation();
        byte[] image = CSharpScriptCompiler.EmitImage(compilation, out _) ?? throw new InvalidOperationException(
            "does not compile: " + string.Join("; ", compilation.GetDiagnostics()));
        return ScriptAssemblyVerifier.Verify(image, "il.csx");
    }

    private static void AssertNames(IReadOnlyList<ScriptProblem> problems, string api, int line = 0)
    {
        Assert.True(problems.Any(p => p.Message.Contains(api, StringComparison.Ordinal) && (line == 0 || p.At.Line == line) && !p.Message.Contains('\n')),
            $"expected a problem{(line > 0 ? $" at line {line}" : "")} naming '{api}', got:\n{string.Join("\n", problems)}");
    }

    // The examples of class A and their neighbours, each refused by `check` with a line naming it. ---------------------

    [Theory]
    [InlineData("var a = new int[4];\nvar v = System.Numerics.Vector.LoadUnsafe(ref a[0], (nuint)1000);", 2, "System.Numerics.Vector")]
    [InlineData("var a = new int[4];\nSystem.Numerics.Vector.StoreUnsafe(System.Numerics.Vector<int>.One, ref a[0], (nuint)1000);", 2, "System.Numerics.Vector")]
    [InlineData("var a = new int[4];\nvar v = System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref a[0], (nuint)64);", 2, "System.Runtime.Intrinsics.Vector128")]
    [InlineData("var p = System.Buffers.ArrayPool<byte>.Shared;", 1, "System.Buffers.ArrayPool")]
    [InlineData("var p = System.Buffers.ArrayPool<byte>.Create();", 1, "System.Buffers.ArrayPool")]
    [InlineData("var h = RuntimeTypeHandle.FromIntPtr((nint)1234);", 1, "System.RuntimeTypeHandle")]
    [InlineData("var h = RuntimeMethodHandle.FromIntPtr((nint)1234);", 1, "System.RuntimeMethodHandle")]
    [InlineData("System.Globalization.CultureInfo.DefaultThreadCurrentCulture = new System.Globalization.CultureInfo(\"de-DE\");", 1, "DefaultThreadCurrentCulture")]
    [InlineData("System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;", 1, "CurrentCulture")]
    [InlineData("var t = System.Threading.Tasks.Task.CompletedTask.ContinueWith(_ => { while (true) { } });", 1, "System.Threading.Tasks.Task.ContinueWith")]
    [InlineData("var s = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref Unsafe(), 100);\nref int Unsafe() => throw null!;", 1, "System.Runtime.InteropServices.MemoryMarshal")]
    [InlineData("int x = 1;\nref long y = ref System.Runtime.CompilerServices.Unsafe.As<int, long>(ref x);", 2, "System.Runtime.CompilerServices.Unsafe")]
    [InlineData("var l = new List<int> { 1 };\nvar s = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(l);", 2, "System.Runtime.InteropServices.CollectionsMarshal")]
    [InlineData("var a = GC.AllocateUninitializedArray<byte>(100);", 1, "System.GC")]
    [InlineData("var p = System.Runtime.InteropServices.Marshal.AllocHGlobal(8);", 1, "System.Runtime.InteropServices.Marshal")]
    [InlineData("System.Threading.ThreadPool.QueueUserWorkItem(_ => { });", 1, "System.Threading.ThreadPool")]
    [InlineData("var t = new System.Threading.Timer(_ => { }, null, 0, 1);", 1, "System.Threading.Timer")]
    [InlineData("System.Threading.Tasks.Parallel.For(0, 10, i => { });", 1, "Parallel")] // not even referenced: a compile error naming it
    [InlineData("var t = new System.Threading.Thread(() => { });", 1, "System.Threading.Thread")]
    [InlineData("var h = System.Runtime.InteropServices.GCHandle.Alloc(new object());", 1, "System.Runtime.InteropServices.GCHandle")]
    [InlineData("var w = new WeakReference(new object());", 1, "System.WeakReference")]
    [InlineData("var o = Activator.CreateInstance<List<int>>();", 1, "System.Activator")]
    [InlineData("var t = Type.GetType(\"System.IO.File\");", 1, "System.Type")]
    [InlineData("Action a = () => { };\nvar d = Delegate.CreateDelegate(typeof(Action), a.Target, \"x\");", 2, "System.Delegate.CreateDelegate")]
    [InlineData("Environment.Exit(3);", 1, "System.Environment")]
    [InlineData("AppContext.SetSwitch(\"x\", true);", 1, "System.AppContext")]
    [InlineData("Console.SetOut(System.IO.TextWriter.Null);", 1, "System.Console")]
    [InlineData("var r = new System.Text.RegularExpressions.Regex(\"(a+)+$\", System.Text.RegularExpressions.RegexOptions.None, System.Text.RegularExpressions.Regex.InfiniteMatchTimeout);", 1, "InfiniteMatchTimeout")]
    [InlineData("var r = System.Text.RegularExpressions.Regex.IsMatch(\"aaa\", \"(a+)+$\", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromDays(1));", 1, "System.Text.RegularExpressions.Regex.IsMatch")]
    [InlineData("var p = Random.Shared.Next();", 1, "System.Random.Shared")]
    [InlineData("var s = string.Intern(\"x\");", 1, "System.String.Intern")]
    [InlineData("var r = System.Threading.Tasks.Task.FromResult(1).Result;", 1, "Result")]
    [InlineData("await System.Threading.Tasks.Task.Yield();", 1, "System.Threading.Tasks.Task.Yield")]
    [InlineData("var b = new byte[8];\nvar i = BitConverter.ToInt32(b, 0);\nvar u = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<long>(ref b[0]);", 3, "System.Runtime.CompilerServices.Unsafe")]
    [InlineData("var a = new byte[4];\nvar b = new byte[4];\nBuffer.BlockCopy(a, 0, b, 0, 4);", 3, "System.Buffer")]
    [InlineData("unsafe { byte* p = null; var s = new Span<byte>(p, 100); }", 1, "unsafe")]
    [InlineData("var h = new RuntimeFieldHandle();\nvar p = h.Value;", 1, "System.RuntimeFieldHandle")]
    [InlineData("class C { ~C() { } }", 1, "finalizer")]
    [InlineData("class M { [System.Runtime.CompilerServices.ModuleInitializer] internal static void Init() { } }", 1, "ModuleInitializer")]
    [InlineData("class S { static S() { GC.Collect(); } }", 1, "System.GC")]
    [InlineData("var l = new List<System.Buffers.ArrayPool<byte>>();", 1, "System.Buffers.ArrayPool")]
    [InlineData("Func<object> f = () => System.Buffers.ArrayPool<int>.Shared;", 1, "System.Buffers.ArrayPool")]
    [InlineData("int F() { return G(); int G() => Environment.ProcessId; }", 1, "System.Environment")]
    [InlineData("class Outer { class Inner { public void M() => GC.Collect(); } }", 1, "System.GC")]
    [InlineData("var t = typeof(System.IO.File);", 1, "System.Type")]
    [InlineData("async void Boom() { await System.Threading.Tasks.Task.CompletedTask; throw new Exception(\"x\"); }\nBoom();", 1, "async void")]
    [InlineData("Action a = async () => { await System.Threading.Tasks.Task.CompletedTask; throw new Exception(\"x\"); };", 1, "async void")]
    [InlineData("void F() { for (int i = 0; i < 100000; i++) { Span<byte> s = stackalloc byte[1024]; } }", 1, "stackalloc")]
    [InlineData("using System.Text.Json;\nvar x = JsonSerializer.Serialize(new { h = (object)Dma });", 2, "System.Text.Json.JsonSerializer.Serialize")]
    public void Check_RefusedApi_ExitsWithALineNamingIt(string code, int line, string api)
    {
        IReadOnlyList<ScriptProblem> problems = Check(code);
        AssertNames(problems, api, line);
    }

    // The IL check on its own: the same attacks compiled without the source check, and shapes only IL shows. ------------

    [Theory]
    [InlineData("var a = new int[4];\nvar v = System.Numerics.Vector.LoadUnsafe(ref a[0], (nuint)1000);", "System.Numerics.Vector.LoadUnsafe: System.Numerics.Vector is not allowed")]
    [InlineData("var a = new int[4];\nSystem.Numerics.Vector.StoreUnsafe(System.Numerics.Vector<int>.One, ref a[0], (nuint)1000);", "System.Numerics.Vector")]
    [InlineData("var p = System.Buffers.ArrayPool<byte>.Shared;", "System.Buffers.ArrayPool")]
    [InlineData("var h = RuntimeTypeHandle.FromIntPtr((nint)1234);", "System.RuntimeTypeHandle.FromIntPtr")]
    [InlineData("var h = RuntimeMethodHandle.FromIntPtr((nint)1234);", "System.RuntimeMethodHandle")]
    [InlineData("System.Globalization.CultureInfo.DefaultThreadCurrentCulture = null;", "System.Globalization.CultureInfo.DefaultThreadCurrentCulture (set)")]
    [InlineData("System.Globalization.CultureInfo.CurrentCulture = null;", "System.Globalization.CultureInfo.CurrentCulture (set)")]
    [InlineData("var t = System.Threading.Tasks.Task.CompletedTask.ContinueWith(_ => { });", "System.Threading.Tasks.Task.ContinueWith")]
    [InlineData("class C { ~C() { } }", "finalizers are not allowed")]
    [InlineData("class M { [System.Runtime.CompilerServices.ModuleInitializer] internal static void Init() { } }", "module initializers")]
    [InlineData("object o = 1;\nvar t = o.GetType();", "System.Object.GetType")]
    [InlineData("var t = typeof(int);", "typeof")]
    [InlineData("var n = nameof(System.IO.File) + typeof(List<int>).Name;", "typeof")]
    [InlineData("async void Boom() { await System.Threading.Tasks.Task.CompletedTask; }\nBoom();", "AsyncVoidMethodBuilder")]
    [InlineData("Action a = async () => await System.Threading.Tasks.Task.CompletedTask;", "AsyncVoidMethodBuilder")]
    [InlineData("var l = new List<int> { 1 };\nint F() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(l)[0];", "CollectionsMarshal")]
    [InlineData("void F() { for (int i = 0; i < 100000; i++) { Span<byte> s = stackalloc byte[1024]; } }", "stackalloc")]
    [InlineData("void F() { again: Span<byte> s = stackalloc byte[64]; goto again; }", "stackalloc")]
    [InlineData("void F() { Span<byte> s = stackalloc byte[100000]; }", "stackalloc")]
    [InlineData("void F() { Span<byte> s = stackalloc byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }; }", "not allowed")]
    [InlineData("System.Threading.Interlocked.Increment(ref X);\nstatic int X;", "System.Threading.Interlocked")]
    [InlineData("var d = new Dictionary<int, System.Threading.Thread>();", "System.Threading.Thread")]
    [InlineData("T Make<T>() where T : new() => new T();\nvar x = Make<System.Threading.CancellationTokenSource>();", "System.Threading.CancellationTokenSource")]
    [InlineData("void F(int x = 1) { }\nclass A : Attribute { public A(Type t) { } }\n[A(typeof(System.IO.File))] class B { }", "System.IO.File")]
    [InlineData("record R(int X);\nvar v = Enum.GetValues(typeof(R));", "System.Enum.GetValues takes or gives a runtime handle or Type")]
    [InlineData("record R(int X);\nvar v = Convert.ChangeType(1, typeof(R));", "System.Convert.ChangeType takes or gives a runtime handle or Type")]
    [InlineData("var x = System.Text.Json.JsonSerializer.Serialize<object>(Dma);", "System.Text.Json.JsonSerializer.Serialize")]
    [InlineData("NicScript.Driver.NetDevice.Fifo f = null!;\nf.Write(new ushort[] { 0 }.AsSpan());", "NicScript.Driver.NetDevice.Fifo.Write")] // the unmarked span overload beside the [ScriptApi] array one
    [InlineData("var x = System.Text.Json.JsonSerializer.Serialize(new { d = Dma });", "System.Text.Json.JsonSerializer.Serialize")]
    [InlineData("var b = Dma.Alloc(8);\nNicScript.Host.Scripting.ScriptBudget.AtHostCall();", "NicScript.Host.Scripting.ScriptBudget.AtHostCall")]
    [InlineData("var b = new NicScript.Host.Scripting.ScriptBudget(TimeSpan.Zero, 0, 0, 0);", "NicScript.Host.Scripting.ScriptBudget..ctor")]
    [InlineData("var s = NicScript.Host.Scripting.ScriptBudget.ForManifest(1, 1);", "NicScript.Host.Scripting.ScriptBudget.ForManifest")]
    public void Verify_AssemblyThatSkippedTheSourceCheck_IsRefused(string code, string api) => AssertNames(VerifyIlOnly(code), api);

    [Fact]
    public void Verify_RefusalInsideALambda_NamesTheLambdasLine()
    {
        IReadOnlyList<ScriptProblem> problems = VerifyIlOnly("var x = 1;\nFunc<int> f = () =>\n    System.Environment.ProcessId;\n");
        ScriptProblem p = Assert.Single(problems, p => p.Message.Contains("System.Environment"));
        Assert.Equal(("il.csx", 3), (Path.GetFileName(p.At.File), p.At.Line));
    }

    [Fact]
    public void Verify_AsyncVoid_IsPlacedAtItsBodysLine()
    {
        IReadOnlyList<ScriptProblem> problems = VerifyIlOnly("var x = 1;\n\nasync void Boom() { await System.Threading.Tasks.Task.CompletedTask; }\n");
        ScriptProblem p = Assert.Single(problems, p => p.Message.Contains("AsyncVoidMethodBuilder"));
        Assert.Equal(3, p.At.Line);
        Assert.Equal(p, problems[0]);
    }

    [Fact]
    public void Verify_GarbageBytes_IsOneProblemNotACrash()
    {
        var rng = new Random(17);
        var bytes = new byte[4096];
        for (int i = 0; i < 200; i++, rng.NextBytes(bytes)) Assert.NotEmpty(ScriptAssemblyVerifier.Verify(bytes, "x.csx"));
    }

    // What compiles from safe C# still passes: the compiler's own shapes and the shipped scripts. -----------------------

    [Theory]
    [InlineData("string Hex() { Span<byte> b = stackalloc byte[16]; BinaryPrimitives.WriteUInt32LittleEndian(b, 0xdeadbeef); return Convert.ToHexString(b[..4]); }\nreturn Hex();")]
    [InlineData("string F() { Span<int> b = stackalloc int[8]; b[7] = 3; return b[7].ToString(); }\nreturn F();")]
    [InlineData("int F() { ReadOnlySpan<byte> u = \"hello\"u8; ReadOnlySpan<byte> k = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }; ReadOnlySpan<byte> one = new byte[] { 7 }; return u.Length + k[9] + one[0]; }\nreturn F();")]
    [InlineData("var a = new int[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };\nint F() { ReadOnlySpan<int> s = new[] { 5, 6, 7, 8, 9, 10, 11, 12 }; return s[0]; }\nreturn a.Sum() + F();")]
    [InlineData("record Frame(int Len, string Name);\nvar f = new Frame(3, \"x\");\nreturn (f == new Frame(3, \"x\")) + f.ToString() + (f with { Len = 4 }).Len;")]
    [InlineData("record struct P(int X);\nvar d = new Dictionary<P, List<(int A, string B)>>();\nd[new P(1)] = new() { (1, \"a\") };\nforeach (var (k, v) in d) { }\nreturn d.Count;")]
    [InlineData("IEnumerable<int> Gen() { yield return 1; yield return 2; }\nreturn Gen().Select(x => x * 2).Sum();")]
    [InlineData("async System.Threading.Tasks.Task<int> F() { await System.Threading.Tasks.Task.CompletedTask; return 2; }\nreturn await F();")]
    [InlineData("var x = new { A = 1, B = \"b\" };\nreturn System.Text.Json.JsonSerializer.Serialize(x) + $\"{x.A,5:D3}\" + nameof(x);")]
    [InlineData("var arr = new[] { 3, 1, 2 };\nvar s = arr[1..];\nArray.Sort(arr);\nreturn s.Length + arr[0] + string.Join(',', arr.Reverse());")]
    [InlineData("try { throw new InvalidOperationException(\"x\"); } catch (Exception e) when (e.Message == \"x\") { return e.Message; }")]
    [InlineData("return string.Join(\"|\", 1, 2, 3, 4, 5, 6, 7, 8, 9) + string.Concat(\"a\", \"b\", \"c\", \"d\", \"e\", \"f\");")] // params ReadOnlySpan: InlineArray helpers
    [InlineData("int F() { ReadOnlySpan<int> s = [1, 2, 3]; Span<object> o = [1, \"x\"]; return s[2] + o.Length; }\nList<int> l = [1, 2, 3];\nint[] a = [4, 5];\nreturn F() + l.Count + a[1];")]
    [InlineData("class Bell { public event Action? Rung; public void Ring() => Rung?.Invoke(); }\nvar n = 0;\nvar b = new Bell();\nb.Rung += () => n++;\nb.Ring();\nreturn n;")] // field-like events: Interlocked.CompareExchange
    [InlineData("int Sw(object o) => o switch { int i => i, string s => s.Length, _ => 0 };\nreturn Sw(\"abc\");")]
    public void Verify_SafeCode_HasNoProblems(string code)
    {
        Assert.Empty(VerifyIlOnly(code));
        Assert.Empty(Check(code));
    }

    public static TheoryData<string> ShippedScripts()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(Repo.Root, "scripts"), "*.csx").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(ShippedScripts))]
    public void Check_ShippedScript_PassesBothChecks(string name)
    {
        IReadOnlyList<ScriptProblem> problems = CSharpEngine.Check(Path.Combine(Repo.Root, "scripts", name));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Run_SafeScript_RunsAfterTheIlCheck()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "int F() { Span<byte> b = stackalloc byte[4]; b[0] = 7; return b[0]; }\nvar l = new List<int> { F() };\nreturn l.Sum() + \"/\" + new { A = 1 }.A;");
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal("7/1", r.Result);
    }

    [Fact]
    public void Run_RefusedScript_NeverLoads()
    {
        var e = Assert.Throws<ScriptCheckException>(() => ScriptRun.Run("t.csx", "var p = System.Buffers.ArrayPool<byte>.Shared;"));
        Assert.Contains("t.csx:1:", e.Message);
    }

    [Fact]
    public void Run_TwoVNodesOfOneCachedScript_DoNotShareStatics()
    {
        const string script = "class Counter { public static int N; }\nCounter.N++;\nreturn Counter.N;";
        using var dir = new TempDir();
        string cache = dir.File("cache");
        VNodeReport first = ScriptRun.Run("t.csx", script, cacheDir: cache, inDir: dir).VNodes.Single();
        VNodeReport second = ScriptRun.Run("t.csx", script, cacheDir: cache, inDir: dir).VNodes.Single(); // a cache hit: the same bytes
        Assert.Equal((VNodeStatus.Completed, VNodeStatus.Completed), (first.Status, second.Status));
        Assert.Equal(("1", "1"), (first.Result?.ToString(), second.Result?.ToString()));
    }

    [Fact]
    public void Run_CatastrophicRegex_FailsWithinTheTimeoutOrIsRefused()
    {
        string code = "var r = new System.Text.RegularExpressions.Regex(\"^(a+)+$\");\nreturn r.IsMatch(new string('a', 40) + \"!\");";
        try
        {
            VNodeReport r = ScriptRun.Single("t.csx", code);
            Assert.Equal(VNodeStatus.Failed, r.Status);
            Assert.Contains("RegexMatchTimeoutException", r.Error);
            Assert.Contains("t.csx:2:", r.Error);
        }
        catch (ScriptCheckException e) // this process read the default timeout before nicscript loaded: Regex is refused, fail closed
        {
            Assert.False(RegexDefaults.InEffect);
            Assert.Contains("default Regex match timeout", e.Message);
        }
    }

    [Fact]
    public void Cli_CatastrophicRegex_IsTheScriptsOneLineFailure()
    {
        // In its own process: nicscript sets the default match timeout before anything reads it (a test host may not).
        _dir.Write("t.csx", "var r = new System.Text.RegularExpressions.Regex(\"^(a+)+$\");\nreturn r.IsMatch(new string('a', 64) + \"!\");");
        string manifest = _dir.Write("vnode.yml", TestVNode.Manifest("regex-test", "  - CAP_LOG_WRITE", "t.csx", 16, 0.5));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "nicscript.dll"), "run", manifest, "--json", "--cache", _dir.File("cache") }) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 1, $"exit {p.ExitCode}: {err}");
        using JsonDocument json = JsonDocument.Parse(output);
        string error = json.RootElement.GetProperty("vnodes")[0].GetProperty("error").GetString()!;
        Assert.Contains("RegexMatchTimeoutException", error);
        Assert.Contains("t.csx:2:", error);
        Assert.DoesNotContain('\n', error);
    }
}
