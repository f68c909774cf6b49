namespace NicScript.Host.Tests.Cli;

/// <summary><c>check</c> and <c>run</c> on input that crashed or hung the process: exit 1, one line naming the file (and its
/// place where there is one), nothing compiled or cached. A real process each, bounded in time.</summary>
public sealed class InputLimitsCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Repeat(string s, int n) => string.Concat(Enumerable.Repeat(s, n));

    private string Manifest(string script) => _dir.Write("vnode.yml", TestVNode.Manifest("limits", "  - CAP_LOG_WRITE", script));

    private void AssertRefused(string command, string target, string expectedStart)
    {
        string[] args = command is "check" or "run" ? [command, target, "--cache", _dir.File("cache")] : [command, target, "--target", "127.0.0.1:1"];
        var (exit, output, err) = NicscriptProcess.Run(_dir.Path, null, TimeSpan.FromSeconds(120), args);
        Assert.True(exit == 1, $"exit {exit}: {err}");
        string line = Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith(expectedStart, line);
        Assert.DoesNotContain("internal error", err);
        Assert.DoesNotContain(" at ", line);
        Assert.False(Directory.Exists(_dir.File("cache")) && Directory.EnumerateFiles(_dir.File("cache")).Any(), "something was compiled and cached");
        Assert.DoesNotContain("ok", output);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("run")]
    public void DeepCSharp_IsRefusedWithItsPlace(string command)
    {
        _dir.Write("deep.csx", "var x = " + Repeat("(", 100_000) + "1" + Repeat(")", 100_000) + ";\n");
        AssertRefused(command, Manifest("deep.csx"), "deep.csx:1:137: error: nesting too deep");
    }

    [Theory]
    [InlineData("check")]
    [InlineData("run")]
    public void DeepJavaScript_IsRefusedWithItsPlace(string command)
    {
        _dir.Write("deep.js", "var x = " + Repeat("[", 100_000) + Repeat("]", 100_000) + ";\n");
        AssertRefused(command, Manifest("deep.js"), "deep.js:1:137: error: nesting too deep");
    }

    [Theory]
    [InlineData("check")]
    [InlineData("run")]
    public void DeepYaml_IsRefusedWithItsPlace(string command)
    {
        _dir.Write("deep.yml", "vnode: " + Repeat("[", 100_000) + Repeat("]", 100_000) + "\n");
        AssertRefused(command, "deep.yml", "deep.yml:1:71: error: nesting too deep");
    }

    [Theory]
    [InlineData("check", "/dev/zero")]
    [InlineData("run", "/dev/zero")]
    [InlineData("check", "/dev/urandom")]
    public void DeviceAsManifest_IsRefused(string command, string device) =>
        AssertRefused(command, device, $"{device}: error: not a regular file (a character device)");

    [Theory]
    [InlineData("check", "main.js")]
    [InlineData("run", "main.js")]
    [InlineData("check", "main.csx")]
    [InlineData("run", "main.csx")]
    public void EntrypointLinkedToDevZero_IsRefused(string command, string script)
    {
        File.CreateSymbolicLink(_dir.File(script), "/dev/zero");
        AssertRefused(command, Manifest(script), $"{script}: error: not a regular file (a character device)");
    }

    [Theory]
    [InlineData("check", "main.js")]
    [InlineData("run", "main.csx")]
    public void FifoEntrypoint_DoesNotHang(string command, string script)
    {
        NicscriptProcess.MakeFifo(_dir.File(script));
        AssertRefused(command, Manifest(script), $"{script}: error: not a regular file (a FIFO)");
    }

    [Fact]
    public void StateFileAndSavedPlan_ThatAreNotRegularFiles_AreRefusedBeforeAnyRpc()
    {
        AssertRefused("plan", "/dev/zero", "/dev/zero: error: not a regular file (a character device)");
        NicscriptProcess.MakeFifo(_dir.File("plan.json"));
        AssertRefused("apply", "plan.json", "plan.json: not a regular file (a FIFO)");
        _dir.Write("dpu.yml", "ports: " + Repeat("[", 100_000) + Repeat("]", 100_000) + "\n");
        AssertRefused("apply", "dpu.yml", "dpu.yml:1:71: error: nesting too deep");
    }

    [Fact]
    public void FolderAndLinkLoopAsManifest_AreRefused()
    {
        Directory.CreateDirectory(_dir.File("folder.yml"));
        AssertRefused("check", "folder.yml", "folder.yml: error: is a folder, not a file");
        File.CreateSymbolicLink(_dir.File("a.yml"), _dir.File("b.yml"));
        File.CreateSymbolicLink(_dir.File("b.yml"), _dir.File("a.yml"));
        AssertRefused("check", "a.yml", "a.yml: error: too many levels of symbolic links");
    }
}
