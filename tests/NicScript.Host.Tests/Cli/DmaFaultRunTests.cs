using System.Text.Json;
using System.Text.Json.Nodes;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript run</c> of a script whose device faults: the count on stderr and in <c>--json</c>, the fault in <c>--audit</c>.</summary>
public sealed class DmaFaultRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // The by-hand bring-up of scripts/virtio-bringup.js, then one TX descriptor at a buffer the script has freed.
    private const string Script = """
        const dev = pci.open("00:1f.0");
        dev.writeConfig16(0x04, dev.readConfig16(0x04) | 0x6);
        const caps = {};
        for (const at of dev.capabilities(0x09)) {
          const type = dev.readConfig8(at + 3);
          caps[type] = { bar: dev.readConfig8(at + 4), off: dev.readConfig32(at + 8), mult: type === 2 ? dev.readConfig32(at + 16) : 0 };
        }
        const C = caps[1], N = caps[2];
        const rd = (off, size) => dev.readBar(C.bar, C.off + off, size);
        const wr = (off, size, v) => dev.writeBar(C.bar, C.off + off, size, v);
        wr(0x14, 1, 0); wr(0x14, 1, 1); wr(0x14, 1, 3);
        wr(0x08, 4, 1); wr(0x0c, 4, 1);
        wr(0x14, 1, 11);
        const rings = [], notify = [];
        for (let q = 0; q < 2; q++) {
          wr(0x16, 2, q); wr(0x18, 2, 8);
          const ring = dma.alloc(4096);
          wr(0x20, 8, ring.iova); wr(0x28, 8, ring.iova + 128); wr(0x30, 8, ring.iova + 152);
          wr(0x1c, 2, 1);
          rings.push(ring); notify.push(N.off + rd(0x1e, 2) * N.mult);
        }
        wr(0x14, 1, 15);
        const gone = dma.alloc(4096), iova = gone.iova;
        gone.free();
        const tx = rings[1];
        tx.writeU64(0, iova); tx.writeU32(8, 72); tx.writeU16(12, 0); tx.writeU16(14, 0);
        tx.writeU16(128 + 4, 0); tx.writeU16(128 + 2, 1);
        dev.writeBar(N.bar, notify[1], 2, 1);
        `status ${rd(0x14, 1)}`;
        """;

    [Fact]
    public async Task Run_DeviceFaults_AreCountedOnStderrAndInJson_AndAudited()
    {
        _dir.Write("freed.js", Script);
        string manifest = _dir.Write("freed.yml", TestVNode.Manifest("freed", "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC", "freed.js"));
        string audit = _dir.File("audit.jsonl");
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new CliContext(console, output, error), ["run", manifest, "--json", "--audit", audit]);

        Assert.Equal(0, exit); // the script did not fail: its device did, and said so
        Assert.Contains("0000:00:1f.0: 1 DMA faults", error.ToString());
        JsonNode json = JsonNode.Parse(output.ToString().Trim().Split('\n')[^1])!;
        Assert.Equal(1, json["dma_faults"]![0]!["dma_faults"]!.GetValue<long>());
        Assert.Contains("status 79", output.ToString()); // 0x4F: DEVICE_NEEDS_RESET with the status the driver set
        using JsonDocument line = JsonDocument.Parse(File.ReadAllLines(audit).Single(l => l.Contains("dma_fault")));
        Assert.Equal(("freed", "0000:00:1f.0", "read", "OutOfBounds"), (line.RootElement.GetProperty("vnode").GetString(),
            line.RootElement.GetProperty("function").GetString(), line.RootElement.GetProperty("access").GetString(),
            line.RootElement.GetProperty("reason").GetString()));
    }
}
