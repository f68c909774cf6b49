using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Capabilities;

public sealed class VirtqHandleTests
{
    [Fact]
    public void Queue_RawPath_SendsAFrameThroughHandWrittenRegisters()
    {
        // Bring-up by register with net.queue() rings: the device reads what the script's queue object laid out.
        const string script = """
            const dev = pci.open("00:1f.0");
            dev.writeConfig16(4, 6);
            const wr = (o, s, v) => dev.writeBar(4, o, s, v), rd = (o, s) => dev.readBar(4, o, s);
            wr(0x14, 1, 0); wr(0x14, 1, 3); wr(0x08, 4, 1); wr(0x0c, 4, 1); wr(0x14, 1, 11);
            const qs = [net.queue(8), net.queue(8)];
            for (let q = 0; q < 2; q++) { wr(0x16, 2, q); wr(0x18, 2, 8); wr(0x20, 8, qs[q].descIova); wr(0x28, 8, qs[q].availIova); wr(0x30, 8, qs[q].usedIova); wr(0x1c, 2, 1); }
            wr(0x14, 1, 15);
            const rx = dma.alloc(2048), tx = dma.alloc(2048);
            qs[0].add(rx, 0, 2048, true); qs[0].publish();
            tx.write(12, [1,2,3,4,5,6, 7,8,9,10,11,12, 0x88,0xb5, 42]);
            qs[1].add(tx, 0, 12 + 15, false);
            if (qs[1].publish()) dev.writeBar(4, 0x3000 + 4, 2, 1);
            const sent = qs[1].getUsed(), got = qs[0].getUsed();
            [sent[0], got[1], rx.readU8(12 + 14)].join(",");
            """;
        VNodeReport r = ScriptRun.Single("raw.js", script, "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC");
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal("0,27,42", r.Result);
    }

    [Fact]
    public void Queue_BadSize_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("raw.js", "net.queue(100)", "  - CAP_DMA_ALLOC");
        Assert.Contains("power of two", r.Error);
    }
}
