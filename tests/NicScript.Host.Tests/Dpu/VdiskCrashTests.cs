using System.Diagnostics;

namespace NicScript.Host.Tests.Dpu;

/// <summary>
/// DPU-27: a host driver script (scripts/vdisk-io.js) grows disk 5, writes a 4 KiB pattern at sector 100 and FLUSHes;
/// the whole <c>nicscript run</c> process — agent, device and driver — is killed with SIGKILL; a new process on the same
/// state directory reads sector 100 back through a freshly brought-up virtio-blk function.
/// </summary>
[Collection(NonParallel.Name)]
public sealed class VdiskCrashTests
{
    private static string Manifest(TempDir dir, string mode, int holdMs) => dir.Write($"vdisk-{mode}.yml", $"""
        vnode:
          name: "vdisk-{mode}"
          version: "0.1.0"
          maintainer: "nicscript@example.org"
          mode: strict
        runtime:
          entrypoint: "{Path.Combine(Repo.Root, "scripts", "vdisk-io.js")}"
          required_mem_mb: 64
          max_cpu_share: 0.5
        capabilities:
          - CAP_DPU_ADMIN
          - CAP_HARDWARE_IO_PCI: "02:05.0"
          - CAP_DMA_ALLOC
          - CAP_LOG_WRITE
        settings:
          pvf_id: "5"
          mode: "{mode}"
          hold_ms: "{holdMs}"
        """);

    private static Process Run(string manifest, string state, Action<string> line)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", dll, "run", manifest, "--dpu-state", state, "--duration", "90"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        Process p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) line(l); };
        p.OutputDataReceived += (_, e) => { if (e.Data is { } l) line(l); };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    [Fact]
    public async Task DPU_27_data_a_flush_completed_survives_kill_9()
    {
        using var dir = new TempDir();
        string state = Path.Combine(dir.Path, "state");
        var flushed = new TaskCompletionSource();
        using (Process writer = Run(Manifest(dir, "write", 60_000), state, l =>
               {
                   if (l.Contains("wrote and flushed 4096 bytes at sector 100", StringComparison.Ordinal)) flushed.TrySetResult();
               }))
        {
            Task first = await Task.WhenAny(flushed.Task, writer.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(first == flushed.Task, "the writer did not report its flush");
            writer.Kill(entireProcessTree: true); // SIGKILL: no disposal, no file close
            await writer.WaitForExitAsync();
        }

        var lines = new List<string>();
        using Process reader = Run(Manifest(dir, "read", 0), state, l => { lock (lines) lines.Add(l); });
        Assert.True(reader.WaitForExit(TimeSpan.FromSeconds(60)), "the reader did not finish");
        await reader.WaitForExitAsync();
        string output = string.Join('\n', lines);
        Assert.True(reader.ExitCode == 0, output);
        Assert.Contains("sector 100 holds the pattern", output);
        Assert.Contains("2097152 sectors", output); // the resize survived too
    }
}
