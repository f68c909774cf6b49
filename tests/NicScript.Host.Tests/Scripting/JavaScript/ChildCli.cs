namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>The CLI as a child process: a regression that overflows the stack kills the child, not the test host.</summary>
internal static class ChildCli
{
    /// <summary>Runs <c>nicscript</c> with <paramref name="args"/> (and <paramref name="stdin"/> piped in); its exit code and output.</summary>
    public static (int Exit, string Out, string Err) Run(string? stdin, params string[] args) =>
        NicscriptProcess.Run(null, stdin, TimeSpan.FromMinutes(5), args);

    /// <summary>Writes <paramref name="script"/> beside a manifest (DMA, log; <paramref name="memMb"/>, share 1) and runs it.</summary>
    public static (int Exit, string Out, string Err) RunScript(TempDir dir, string script, int memMb = 512, string capabilities = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE")
    {
        dir.Write("deep.js", script);
        string manifest = dir.Write("deep.yml", TestVNode.Manifest("deep", capabilities, "deep.js", memMb, share: 1));
        return Run(null, "run", manifest, "--duration", "120");
    }
}
