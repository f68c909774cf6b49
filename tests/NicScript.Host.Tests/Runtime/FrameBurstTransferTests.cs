using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Runtime;

/// <summary>A burst of frames crosses to another V-Node and back in one script call each way, in order, without a copy by the host.</summary>
public sealed class FrameBurstTransferTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, string caps)
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, memMb: 16, metrics: "[\"packets_rx\"]")));
    }

    // Five frames, byte 14 = 10..14, go out and come back on the loopback wire, then to the stack as one sendFrames call.
    // What comes back is gathered into a second burst: the stack's replies, in order, without the one it emptied.
    private const string Bridge = """
        const nic = net.open("00:1f.0").up();
        const rx = nic.burst(), tx = nic.burst();
        tx.count = 0;
        ipc.serveBurst("svc://bridge", b => {
          if (b.count !== 5 || b.type(0) !== "TxPacket" || b.from(0) !== "stack") throw new Error("burst " + b.count + " " + b.type(0));
          const next = tx.gather(b, 0);
          const got = [];
          for (let i = 0; i < tx.count; i++) got.push(tx.readU8(i, 14));
          if (next !== 5 || got.join(",") !== "110,111,113,114") throw new Error("gathered " + next + ": " + got.join(","));
          metrics.inc("packets_rx", tx.count);
          tx.count = 0;
          ipc.close("svc://bridge");
        });
        for (let i = 0; i < 5; i++) rx.write(i, [0xff,0xff,0xff,0xff,0xff,0xff, 0x52,0x54,0,0x12,0x34,0x56, 0x88,0xb5, 10 + i]);
        nic.tx(rx);
        const n = nic.rxPoll(rx);
        const sent = ipc.sendFrames("svc://stack", "RxPacket", rx);
        [n, sent].join("|");
        """;

    // One call for the five: each frame read into one array, byte 14 raised by 100 and written back; the third emptied.
    private const string Stack = """
        var frame = new byte[2048];
        Ipc.ServeBurst("svc://stack", b =>
        {
            for (var i = 0; i < b.Count; i++)
            {
                var length = b.Read(i, frame);
                if (frame[14] != 10 + i || b.Type(i) != "RxPacket") throw new InvalidOperationException($"message {i}: {frame[14]} {b.Type(i)}");
                frame[14] += 100;
                b.Write(i, frame, i == 2 ? 0 : length);
                Metrics.Inc("packets_rx");
            }
            if (Ipc.Forward("svc://bridge", "TxPacket", b) != 5) throw new InvalidOperationException("not all forwarded");
            if (b.HasFrame(0)) throw new InvalidOperationException("a forwarded frame is still here");
            Ipc.Close("svc://stack");
        });
        """;

    [Fact]
    public async Task SendFrames_ServeBurst_Forward_Gather_RoundTripInOrder_NothingLeaks()
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
        Assert.Equal("5|5", report.VNodes[1].Result);
        Assert.Equal(5, report.VNodes[0].Metrics.Single().Value);
        Assert.Equal(4, report.VNodes[1].Metrics.Single().Value); // the emptied frame went home instead of into tx
        Assert.Empty(machine.Dma.Regions);
    }
}
