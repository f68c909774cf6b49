using System.Diagnostics;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>The CLI as a child process: a regression that overflows the stack kills the child, not the test host.</summary>
internal static class ChildCli
{
    /// <summary>Runs <c>nicscript</c> with <paramref name="args"/> (and <paramref name="stdin"/> piped in); its exit code and output.</summary>
    public static (int Exit, string Out, string Err) Run(string? stdin, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", dll, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null,
        };
        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("nicscript did not finish in 5 minutes: " + string.Join(' ', args));
        }
        return (p.ExitCode, output.Result, error.Result);
    }

    /// <summary>Writes <paramref name="script"/> beside a manifest (DMA, log; <paramref name="memMb"/>, share 1) and runs it.</summary>
    public static (int Exit, string Out, string Err) RunScript(TempDir dir, string script, int memMb = 512, string capabilities = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE")
    {
        dir.Write("deep.js", script);
        string manifest = dir.Write("deep.yml", TestVNode.Manifest("deep", capabilities, "deep.js", memMb, share: 1));
        return Run(null, "run", manifest, "--duration", "120");
    }
}
