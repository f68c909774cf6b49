using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace NicScript.Host.Tests.Cli;

/// <summary>Ctrl+C (a real SIGINT to a real <c>nicscript run</c>) while a top level runs: a clean stop, the report, exit 130.</summary>
public sealed class InterruptTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [Theory]
    [InlineData(2, 130, "interrupted (Ctrl+C)", "--default-signal=INT")]
    [InlineData(15, 143, "stopped (SIGTERM)", "--default-signal=INT")]
    // Started as a non-interactive shell starts a background job (`nicscript run … &` in a script): SIGINT inherited as
    // ignored. The host still stops on it.
    [InlineData(2, 130, "interrupted (Ctrl+C)", "--ignore-signal=INT")]
    [InlineData(15, 143, "stopped (SIGTERM)", "--ignore-signal=TERM")]
    public async Task Run_SignalWhileTopLevelRuns_ReportPrintedAndDocumentedExitCode(int signal, int exitCode, string said, string inherited)
    {
        _dir.Write("spin.js", "log.info(\"top level started\");\nwhile (true) {}\n");
        string manifest = _dir.Write("spin.yml", TestVNode.Manifest("spin", "  - CAP_LOG_WRITE", "spin.js", memMb: 16, share: 1.0));
        string dll = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        var psi = new ProcessStartInfo("env", [inherited, "dotnet", "exec", dll, "run", manifest, "--json"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi)!;
        var started = new TaskCompletionSource();
        var err = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.Contains("top level started", StringComparison.Ordinal)) started.TrySetResult();
        };
        p.BeginErrorReadLine();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, Kill(p.Id, signal));
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)), "the run did not stop on the signal");
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        p.WaitForExit();
        string stderr;
        lock (err) stderr = err.ToString();
        Assert.True(p.ExitCode == exitCode, $"exit {p.ExitCode}: {stderr}");
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("TaskCanceledException", stderr);
        Assert.Contains(said, stderr);
        using JsonDocument report = JsonDocument.Parse(await output); // the report is printed, and it is JSON
        Assert.Equal("cancelled", report.RootElement.GetProperty("vnodes")[0].GetProperty("status").GetString());
    }
}
