using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Capabilities;

public sealed class NetDownTests
{
    private const string Caps = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC";

    [Fact]
    public void Down_FreesTheNicsMemory_AndOldBurstsSaySo()
    {
        const string script = """
            const nic = net.open("00:1f.0").up();
            const b = nic.burst();
            const held = dma.usedBytes;
            nic.down();
            let msg = "";
            try { b.read(0); } catch (e) { msg = e.message; }
            [held > 1000000, dma.usedBytes, msg, nic.up() === nic].join("|");
            """;
        VNodeReport r = ScriptRun.Single("t.js", script, Caps);
        Assert.Equal("true|0|this burst's NIC was brought down: its buffers are gone|true", r.Result);
    }

    [Fact]
    public void Up_Twice_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("t.js", "const n = net.open('00:1f.0'); n.up(); n.up();", Caps);
        Assert.Contains("already up; call down() first", r.Error);
    }
}
