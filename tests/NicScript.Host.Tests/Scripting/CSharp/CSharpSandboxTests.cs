using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Tests.Scripting.CSharp;

public sealed class CSharpSandboxTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private IReadOnlyList<ScriptProblem> Check(string code, string name = "s.csx") => CSharpEngine.Check(_dir.Write(name, code));

    /// <summary>The script is refused with a problem at <paramref name="line"/> naming <paramref name="api"/>.</summary>
    private void AssertRefused(string code, int line, string api)
    {
        IReadOnlyList<ScriptProblem> problems = Check(code);
        Assert.True(problems.Any(p => p.At.Line == line && p.Message.Contains(api, StringComparison.Ordinal)),
            $"expected a problem at line {line} naming '{api}', got:\n{string.Join("\n", problems)}");
    }

    [Theory]
    [InlineData("var x = 1;\nvar t = System.IO.File.ReadAllText(\"/etc/passwd\");", 2, "System.IO.File")]
    [InlineData("using System.Diagnostics;\nProcess.Start(\"sh\");", 2, "System.Diagnostics.Process")]
    [InlineData("var a = typeof(int).Assembly;", 1, "System.Type")]
    [InlineData("var a = typeof(int).Assembly;", 1, "System.Reflection.Assembly")]
    [InlineData("object o = 1;\nvar t = o.GetType();", 2, "System.Object.GetType")]
    [InlineData("var o = Activator.CreateInstance(typeof(string));", 1, "System.Activator")]
    [InlineData("var t = Type.GetType(\"System.IO.File\");", 1, "System.Type")]
    [InlineData("var p = System.Runtime.InteropServices.Marshal.AllocHGlobal(8);", 1, "System.Runtime.InteropServices.Marshal")]
    [InlineData("var u = System.Runtime.CompilerServices.Unsafe.SizeOf<int>();", 1, "System.Runtime.CompilerServices.Unsafe")]
    [InlineData("var e = Environment.GetEnvironmentVariable(\"HOME\");", 1, "System.Environment")]
    [InlineData("var d = AppDomain.CurrentDomain;", 1, "System.AppDomain")]
    [InlineData("GC.Collect();", 1, "System.GC")]
    [InlineData("Console.WriteLine(1);", 1, "System.Console")]
    [InlineData("var t = new System.Threading.Thread(() => {});", 1, "System.Threading.Thread")]
    [InlineData("System.Threading.ThreadPool.QueueUserWorkItem(_ => {});", 1, "System.Threading.ThreadPool")]
    [InlineData("var t = System.Threading.Tasks.Task.Run(() => 1);", 1, "System.Threading.Tasks.Task.Run")]
    [InlineData("await System.Threading.Tasks.Task.Delay(10);", 1, "System.Threading.Tasks.Task.Delay")]
    [InlineData("var t = new System.Threading.Timer(_ => {});", 1, "System.Threading.Timer")]
    [InlineData("var c = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);", 1, "System.Net.Sockets.Socket")]
    [InlineData("var c = new System.Net.Http.HttpClient();", 1, "System.Net.Http.HttpClient")]
    [InlineData("dynamic d = 1;\nd.Foo();", 1, "dynamic")]
    [InlineData("int x = 0;\nunsafe { int* p = &x; }", 2, "unsafe")]
    [InlineData("void F() { Span<byte> s = stackalloc byte[100000]; }", 1, "stackalloc")]
    [InlineData("[System.Runtime.InteropServices.DllImport(\"libc\")] static extern int getpid();\ngetpid();", 1, "System.Runtime.InteropServices.DllImportAttribute")]
    [InlineData("static extern int getpid();", 1, "extern")]
    [InlineData("Action a = () => {};\nvar m = a.Method;", 2, "System.Delegate.Method")]
    [InlineData("var b = VNode.GetType();", 1, "System.Object.GetType")]
    public void Check_RefusedApi_NamesItAndItsLine(string code, int line, string api) => AssertRefused(code, line, api);

    [Fact]
    public void Check_HostMemberWithoutScriptApi_IsRefused() =>
        AssertRefused("var d = Dma.Alloc(8);\nvar a = new NicScript.Host.Capabilities.AuditLog(null!);", 2, "not part of the NicScript script API");

    [Fact] // x! reads x: the surface is asked for the getter only, as the IL check sees it (a get-only property has no setter to ask about)
    public void Check_NullForgivingReadOfAHandleProperty_HasNoProblems() => Assert.Empty(Check("var n = VNode.Name!.Length;"));

    [Fact] // the IL check allows the injected call; the source must never name it
    public void Check_NamingTheBudgetItself_IsRefused() =>
        AssertRefused("NicScript.Host.Scripting.ScriptBudget.Check();", 1, "NicScript.Host.Scripting.ScriptBudget.Check");

    [Fact]
    public void Check_ReferenceDirective_IsRefused() => AssertRefused("#r \"System.IO.dll\"\nvar x = 1;", 1, "#r is not allowed");

    [Fact]
    public void Check_LoadOfNonSibling_IsRefused() => AssertRefused("#load \"../other/x.csx\"\nvar x = 1;", 1, "only a sibling .csx");

    [Fact]
    public void Check_LoadedSiblingUsingFile_IsRefusedInTheSibling()
    {
        _dir.Write("evil.csx", "var secret = System.IO.File.ReadAllText(\"/etc/hostname\");\n");
        IReadOnlyList<ScriptProblem> problems = Check("#load \"evil.csx\"\nvar x = 1;");
        ScriptProblem p = Assert.Single(problems, p => p.Message.Contains("System.IO.File"));
        Assert.Equal(("evil.csx", 1), (Path.GetFileName(p.At.File), p.At.Line));
    }

    [Fact]
    public void Check_ManyRefusals_AreAllListed()
    {
        IReadOnlyList<ScriptProblem> problems = Check("Console.WriteLine(1);\nGC.Collect();\nvar e = Environment.ProcessId;\n");
        Assert.Equal([1, 2, 3], problems.Select(p => p.At.Line).Distinct());
    }

    [Fact]
    public void Check_CompileError_HasFileLineColumnAndOneLine()
    {
        ScriptProblem p = Assert.Single(Check("var x = 1;\nvar y = x +;\n"));
        Assert.Equal((2, 12), (p.At.Line, p.At.Column));
        Assert.DoesNotContain('\n', p.Message);
    }

    [Theory]
    [InlineData("var l = new List<int> { 3, 1, 2 };\nl.Sort();\nreturn string.Join(\",\", l.Select(x => x * 2));")]
    [InlineData("string Hex() { Span<byte> b = stackalloc byte[16]; BinaryPrimitives.WriteUInt32LittleEndian(b, 0xdeadbeef); return Convert.ToHexString(b[..4]); }\nreturn Hex();")]
    [InlineData("var sb = new StringBuilder();\nsb.Append(Math.Max(1, 2));\nvar d = new Dictionary<string, int> { [\"a\"] = 1 };\nreturn sb.ToString() + d[\"a\"] + $\"{1.5:0.0}\";")]
    [InlineData("record Frame(int Len);\nint Fib(int n) => n < 2 ? n : Fib(n - 1) + Fib(n - 2);\nreturn new Frame(Fib(10)).Len;")]
    [InlineData("var q = from x in Enumerable.Range(0, 10) where x % 2 == 0 select x;\nreturn q.Sum();")]
    [InlineData("try { throw new InvalidOperationException(\"x\"); } catch (Exception e) { return e.Message; }")]
    public void Check_AllowedCode_HasNoProblems(string code) => Assert.Empty(Check(code));

    [Fact]
    public void Run_RefusedScript_RunsNothing()
    {
        var e = Assert.Throws<ScriptCheckException>(() => ScriptRun.Run("s.csx", "Metrics.Inc(\"packets_rx\");\nvar t = System.IO.File.ReadAllText(\"/etc/hostname\");"));
        Assert.Contains("s.csx:2:", e.Message);
        Assert.Contains("System.IO.File", e.Message);
    }
}
