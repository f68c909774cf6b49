using System.Diagnostics;

namespace NicScript.Host.Tests;

/// <summary>The real program in its own process, bounded in time: what a user sees when input would crash or hang it
/// (a stack overflow ends a process; in the test host it would end every test).</summary>
internal static class NicscriptProcess
{
    /// <summary>Runs <c>nicscript ARGS</c> in <paramref name="workDir"/> (with its C# cache there; null: here, the default
    /// cache), <paramref name="stdin"/> piped in; fails the test if it has not ended within <paramref name="timeout"/>
    /// (default 60 s: a hang, not a slow machine).</summary>
    public static (int Exit, string Out, string Err) Run(string? workDir, string? stdin, TimeSpan? timeout, params string[] args) =>
        RunWith(new Dictionary<string, string>(), workDir, stdin, timeout, args);

    /// <summary><see cref="Run"/> with <paramref name="environment"/> added to the child's (runtime settings such as
    /// <c>DOTNET_GCHeapHardLimit</c>, to reach a limit without using the machine's memory).</summary>
    public static (int Exit, string Out, string Err) RunWith(IReadOnlyDictionary<string, string> environment, string? workDir, string? stdin, TimeSpan? timeout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nicscript.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach ((string name, string value) in environment) psi.Environment[name] = value;
        if (workDir is not null)
        {
            psi.WorkingDirectory = workDir;
            psi.Environment["NICSCRIPT_CACHE"] = Path.Combine(workDir, "cache");
        }
        using Process p = Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        try { if (stdin is not null) p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        catch (IOException) { } // it ended before reading all of it
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"nicscript {string.Join(' ', args)} did not end (hung)");
        }
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }

    /// <summary>Makes a FIFO at <paramref name="path"/> (nothing ever writes to it).</summary>
    public static void MakeFifo(string path)
    {
        using Process p = Process.Start("mkfifo", [path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
