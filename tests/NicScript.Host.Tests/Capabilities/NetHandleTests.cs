using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Capabilities;

public sealed class NetHandleTests
{
    private const string Caps = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_IRQ_REGISTER: 11\n  - CAP_DMA_ALLOC";

    [Fact]
    public void Open_WithoutNetworkAccess_IsDenied()
    {
        VNodeReport r = ScriptRun.Single("t.js", "net.open('00:1f.0')", "  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC");
        Assert.Contains("NetworkAccess not granted to script-test", r.Error);
    }

    [Fact]
    public void Open_FunctionNotGranted_IsDenied()
    {
        VNodeReport r = ScriptRun.Single("t.js", "net.open('00:03.0')", Caps);
        Assert.Contains("CAP_HARDWARE_IO_PCI 0000:00:03.0 not granted", r.Error);
    }

    [Fact]
    public void Burst_BeforeUp_SaysSo()
    {
        VNodeReport r = ScriptRun.Single("t.js", "net.open('00:1f.0').burst()", Caps);
        Assert.Contains("call up() first", r.Error);
    }

    [Fact]
    public void Interrupt_OnLoopback_RunsTheHandlerOnTheLoop_AndLatencyIsObserved()
    {
        const string script = """
            const nic = net.open("00:1f.0").up("intx");
            const rx = nic.burst(), tx = nic.burst();
            let seen = 0;
            irq.register(11, e => {
              const isr = nic.ackInterrupt();
              seen += nic.rxPoll(rx);
              metrics.inc("packets_rx", rx.count);
              if (seen >= 3) irq.unregister(11);
            });
            tx.write(0, [0xff,0xff,0xff,0xff,0xff,0xff, 0x52,0x54,0,0x12,0x34,0x56, 0x88,0xb5, 1,2,3]);
            tx.write(1, [0xff,0xff,0xff,0xff,0xff,0xff, 0x52,0x54,0,0x12,0x34,0x56, 0x88,0xb5, 4,5,6]);
            tx.write(2, [0xff,0xff,0xff,0xff,0xff,0xff, 0x52,0x54,0,0x12,0x34,0x56, 0x88,0xb5, 7,8,9]);
            nic.tx(tx);
            """;
        RunReportFor(script, out VNodeReport r);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.True(r.HandlerCalls >= 1);
        Assert.Equal(3, r.Metrics.Single(m => m.Name == "packets_rx").Value);
        NicScript.Host.Capabilities.Metric latency = r.Metrics.Single(m => m.Name == "latency_ns");
        Assert.Equal(0, latency.Count); // not declared as irq_latency_ns: the host does not touch it
    }

    private static void RunReportFor(string script, out VNodeReport report) =>
        report = ScriptRun.Single("irq.js", script, Caps + "\n  - CAP_LOG_WRITE");

    [Fact]
    public async Task Examples_BringUpByHand_InBothLanguages_SeeTheFrameComeBack()
    {
        foreach (string manifest in new[] { "manifests/virtio-bringup.yml", "manifests/virtio-bringup-cs.yml" })
        {
            var target = NicScript.Host.Manifests.RunTarget.Load(Path.Combine(Repo.Root, manifest));
            using var machine = NicScript.Driver.DefaultMachine.Create();
            var log = new Serilog.LoggerConfiguration().CreateLogger();
            using var audit = new NicScript.Host.Capabilities.AuditLog(log);
            using var dir = new TempDir();
            var runner = new VNodeRunner(log, new NicScript.Host.Scripting.ScriptEngineFactory(dir.File("cache")));
            RunReport report = await runner.RunAsync("t", target.VNodes, machine, audit, TimeSpan.FromSeconds(30), CancellationToken.None);
            VNodeReport v = report.VNodes.Single();
            Assert.True(v.Status == VNodeStatus.Completed, manifest + ": " + v.Error);
            Assert.Equal("sent 25 bytes, received 25 identical bytes", v.Result);
        }
    }
}
