using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting;

/// <summary>One object model, two languages: the same scenario in JavaScript and C# gives the same result.</summary>
public sealed class ObjectModelTests
{
    private const string Caps = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_IRQ_REGISTER: 11";

    private const string Js = """
        const dev = pci.open("0x00:0x1F:0x0");
        const buf = dma.alloc(256);
        buf.writeU32(0, dev.vendorId << 16 | dev.deviceId);
        buf.writeText(4, vnode.name);
        metrics.inc("packets_rx", 2);
        metrics.observe("latency_ns", 1500);
        let denied = "";
        try { irq.register(12, e => {}); } catch (e) { denied = e.message; }
        [buf.hex(0, 4), buf.readText(4, vnode.name.length), metrics.get("packets_rx"), metrics.get("latency_ns"),
         dev.address, dev.readConfig16(0), irq.lines.join("+"), vnode.grants.length, denied].join("|");
        """;

    private const string Cs = """
        var dev = Pci.Open("0x00:0x1F:0x0");
        var buf = Dma.Alloc(256);
        buf.WriteU32(0, dev.VendorId << 16 | dev.DeviceId);
        buf.WriteText(4, VNode.Name);
        Metrics.Inc("packets_rx", 2);
        Metrics.Observe("latency_ns", 1500);
        var denied = "";
        try { Irq.Register(12, e => { }); } catch (Exception e) { denied = e.Message; }
        string.Join("|", buf.Hex(0, 4), buf.ReadText(4, VNode.Name.Length), Metrics.Get("packets_rx"), Metrics.Get("latency_ns"),
            dev.Address, dev.ReadConfig16(0), string.Join("+", Irq.Lines), VNode.Grants.Length, denied)
        """;

    [Fact]
    public void SameScenario_InBothLanguages_GivesTheSameResult()
    {
        VNodeReport js = ScriptRun.Single("scenario.js", Js, Caps);
        VNodeReport cs = ScriptRun.Single("scenario.csx", Cs, Caps);
        Assert.Equal(VNodeStatus.Completed, js.Status);
        Assert.Equal(VNodeStatus.Completed, cs.Status);
        Assert.Equal("0010f41a|script-test|2|1|0000:00:1f.0|6900|11|4|CAP_IRQ_REGISTER 12 not granted to script-test", js.Result);
        Assert.Equal(js.Result, cs.Result);
    }
}
