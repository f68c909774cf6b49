using System.Diagnostics;
using System.Text.RegularExpressions;
using NicScript.Driver.VfioUser;
using Xunit.Abstractions;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>QEMU's own vfio-user client (<c>vfio-user-pci</c>, QEMU ≥ 10.1) against the server, with no guest kernel: QEMU
/// negotiates, maps the guest's RAM, reads the function's config space and sets up its interrupts, and the firmware
/// (SeaBIOS) enumerates the function and programs its BARs. Skipped where no such QEMU is installed
/// (<c>bash .ci/guest-setup</c> installs one).</summary>
public sealed class VfioUserQemuTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vfio-user-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string? FindQemu()
    {
        string? home = Environment.GetEnvironmentVariable("HOME");
        string?[] candidates =
        [
            Environment.GetEnvironmentVariable("NICSCRIPT_QEMU"),
            Environment.GetEnvironmentVariable("NICSCRIPT_GUEST_DIR") is { } dir ? Path.Combine(dir, "bin/qemu-system-x86_64") : null,
            "/var/cache/nicscript-guest/bin/qemu-system-x86_64",
            home is null ? null : Path.Combine(home, ".cache/nicscript-guest/bin/qemu-system-x86_64"),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    [SkippableFact]
    public void Qemu_RealizesTheExportedVirtioNetAndTheFirmwareProgramsItsBars()
    {
        string? qemu = FindQemu();
        Skip.If(qemu is null, "no QEMU with vfio-user-pci (bash .ci/guest-setup installs one)");
        var events = new RecordingEvents();
        var trace = new MemoryStream();
        using var traceWriter = new JsonLinesTrace(new SynchronizedStream(trace));
        using var fn = new ExportedFunction(_dir, 0x1f, events, traceWriter);
        string Trace() { lock (trace) return System.Text.Encoding.UTF8.GetString(trace.ToArray()); }

        var psi = new ProcessStartInfo(qemu!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string a in (string[])["-accel", "tcg", "-machine", "q35,memory-backend=mem", "-m", "64M",
                     "-object", "memory-backend-memfd,id=mem,size=64M,share=on", "-nodefaults", "-nographic", "-monitor", "none", "-serial", "none",
                     "-device", "pcie-root-port,id=rp,chassis=1",
                     "-device", $$"""{"driver":"vfio-user-pci","socket":{"path":"{{fn.Server.SocketPath}}","type":"unix"},"id":"f0","bus":"rp"}"""])
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        var memoryDecode = new Regex("\"ev\":\"config_write\",\"index\":7,\"offset\":4,\"size\":2,\"value\":([0-9]+)"); // the Command register
        bool Decoding() => memoryDecode.Matches(Trace()).Any(m => (int.Parse(m.Groups[1].Value) & 2) != 0);
        bool programmed = SpinWait.SpinUntil(() => p.HasExited || Decoding(), TimeSpan.FromSeconds(60));
        if (!p.HasExited) p.Kill();
        p.WaitForExit();
        output.WriteLine($"QEMU exit {p.ExitCode}: {p.StandardError.ReadToEnd()}");
        output.WriteLine(Trace());
        Assert.True(programmed, "the firmware never enabled the function's decoding");
        Assert.True(SpinWait.SpinUntil(() => !fn.Server.Connected, TimeSpan.FromSeconds(10)));
        Assert.Empty(events.Faults); // nothing QEMU does on the way is refused, and it is never put out
        Assert.Contains("\"ev\":\"dma_map\",\"index\":3", Trace()); // the sealed memfd RAM, read and write
        Assert.Contains("\"ev\":\"set_irqs\"", Trace());
        Assert.Empty(fn.Guest.Mappings); // QEMU went away: everything it mapped is gone
    }

    /// <summary>A stream the server's thread writes while the test reads it.</summary>
    private sealed class SynchronizedStream(MemoryStream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (inner) inner.Write(buffer, offset, count);
        }
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (inner) inner.Write(buffer);
        }
        public override void WriteByte(byte value)
        {
            lock (inner) inner.WriteByte(value);
        }
    }
}
