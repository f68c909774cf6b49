using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Runtime;

/// <summary>Received frames travel between V-Nodes over IPC without a copy, by MemShare transfer of their pool slots.</summary>
public sealed class FrameTransferTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, string caps)
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, memMb: 16, metrics: "[\"packets_rx\"]")));
    }

    private const string Bridge = """
        const nic = net.open("00:1f.0").up();
        const burst = nic.burst();
        let back = 0, lost = "";
        ipc.serve("svc://bridge", m => {
          back++;
          nic.release(m.frame);                       // home again: into the pool
          if (back === 3) ipc.close("svc://bridge");
        });
        for (let i = 0; i < 3; i++) burst.write(i, [0xff,0xff,0xff,0xff,0xff,0xff, 0x52,0x54,0,0x12,0x34,0x56, 0x88,0xb5, 10 + i]);
        nic.tx(burst);
        const n = nic.rxPoll(burst);
        for (let i = 0; i < n; i++) {
          const f = burst.take(i);
          ipc.send("svc://stack", "RxPacket", null, f);
          if (f.accessible) lost = "giver kept access";
          try { f.read(); lost = "giver read after transfer"; } catch (e) { if (!e.message.includes("not held by bridge")) lost = e.message; }
        }
        [n, lost].join("|");
        """;

    private const string Stack = """
        var seen = 0;
        Ipc.Serve("svc://stack", m =>
        {
            Metrics.Inc("packets_rx");
            var bytes = m.Frame!.Read();
            if (bytes[14] != 10 + seen++) throw new InvalidOperationException("frames out of order or changed");
            Ipc.Send("svc://bridge", "TxPacket", null, m.Frame);
            if (seen == 3) Ipc.Close("svc://stack");
        });
        """;

    [Fact]
    public async Task Frames_GoToTheStackAndBack_GiverLosesAccess_NothingLeaks()
    {
        const string caps = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE";
        VNodeManifest stack = VNode("stack", "stack.csx", Stack, "  - CAP_MEM_SHARE");
        VNodeManifest bridge = VNode("bridge", "bridge.js", Bridge, caps);
        using Machine machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(_dir.File("cache")));
        RunReport report = await runner.RunAsync("t", [stack, bridge], machine, audit, TimeSpan.FromSeconds(20), CancellationToken.None);
        Assert.True(report.Succeeded, string.Join("; ", report.VNodes.Select(v => v.Error)));
        Assert.Equal("3|", report.VNodes[1].Result);
        Assert.Equal(3, report.VNodes[0].Metrics.Single().Value);
        Assert.Equal(3, report.Denials.Count); // the giver's read after each transfer
        Assert.Empty(machine.Dma.Regions);   // the NIC's pool and rings went with the V-Node that brought it up
    }

    [Fact]
    public async Task Send_WithoutMemShare_IsDenied_AndTheFrameStays()
    {
        VNodeManifest stack = VNode("stack", "stack.js", "ipc.serve('svc://stack', m => {});", "  - CAP_LOG_WRITE");
        VNodeManifest bridge = VNode("bridge", "bridge.js", """
            const nic = net.open("00:1f.0").up();
            const b = nic.burst();
            b.write(0, [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]);
            const f = b.take(0);
            let msg = "";
            try { ipc.send("svc://stack", "RxPacket", null, f); } catch (e) { msg = e.message; }
            [msg, f.accessible].join("|");
            """, "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC");
        using Machine machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(_dir.File("cache")));
        RunReport report = await runner.RunAsync("t", [stack, bridge], machine, audit, TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.Equal("CAP_MEM_SHARE not granted to bridge|true", report.VNodes[1].Result);
    }
}
