using System.Buffers.Binary;
using System.Diagnostics;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

public sealed class PcapWriterTests
{
    [Fact]
    public void Capture_WritesGlobalHeaderAndOneRecordPerFrame()
    {
        var ms = new MemoryStream();
        var rx = new Collector();
        using (var pcap = new PcapWriter(ms))
        {
            using Link link = Links.Loopback();
            link.Capture(pcap);
            WirePort port = link.Attach(rx);
            port.Transmit(LinkTests.Ether(1, 1, 60));
            port.Transmit(LinkTests.Ether(1, 1, 1514));
            Assert.Equal(2, pcap.Frames);
        }
        byte[] b = ms.ToArray();
        Assert.Equal(PcapWriter.Magic, BinaryPrimitives.ReadUInt32LittleEndian(b));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)));
        Assert.Equal(60u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24 + 8)));
        Assert.Equal(1514u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24 + 16 + 60 + 8)));
        Assert.Equal(24 + 16 + 60 + 16 + 1514, b.Length);
    }

    [SkippableFact]
    public void Capture_IsReadByTshark()
    {
        string? tshark = Which("tshark");
        Skip.If(tshark is null, "tshark is not installed (.ci/run installs it)");
        string path = Path.Combine(Path.GetTempPath(), $"nicscript-{Guid.NewGuid():n}.pcap");
        try
        {
            using (PcapWriter pcap = PcapWriter.Create(path))
            {
                using Link link = Links.Loopback();
                link.Capture(pcap);
                WirePort port = link.Attach(new Collector());
                for (int i = 0; i < 3; i++) port.Transmit(LinkTests.Ether(1, 2, 64));
            }
            var psi = new ProcessStartInfo(tshark!, ["-r", path, "-T", "fields", "-e", "eth.src", "-e", "eth.type"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.All(lines, l => Assert.Equal("02:00:00:00:00:02\t0x88b5", l.Trim()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The capture is read while the run goes on: every frame written is in the file before the writer is closed
    /// or flushed, and the file ends on a whole record (tshark reads it without "cut short").</summary>
    [SkippableFact]
    public void OpenCapture_IsReadByTsharkFrameByFrame()
    {
        string? tshark = Which("tshark");
        Skip.If(tshark is null, "tshark is not installed (.ci/run installs it)");
        string path = Path.Combine(Path.GetTempPath(), $"nicscript-{Guid.NewGuid():n}.pcap");
        try
        {
            using PcapWriter pcap = PcapWriter.Create(path);
            using Link link = Links.Loopback();
            link.Capture(pcap);
            WirePort port = link.Attach(new Collector());
            for (int n = 1; n <= 3; n++)
            {
                port.Transmit(LinkTests.Ether(1, 2, 60 + n));
                var psi = new ProcessStartInfo(tshark!, ["-r", path, "-T", "fields", "-e", "frame.len"]) { RedirectStandardOutput = true, RedirectStandardError = true };
                using Process p = Process.Start(psi)!;
                string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, error);
                Assert.Equal(Enumerable.Range(1, n).Select(i => (60 + i).ToString()), output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
