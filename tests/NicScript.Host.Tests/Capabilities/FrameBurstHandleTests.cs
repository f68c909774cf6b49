using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Capabilities;

/// <summary>A frame put into a burst has one holder, the burst: the handle it came from cannot send it to another V-Node
/// while the burst still reads, writes and transmits it.</summary>
public sealed class FrameBurstHandleTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, string caps)
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, memMb: 16)));
    }

    [Theory]
    [InlineData("b.put(0, f); ipc.send(\"svc://stack\", \"RxPacket\", null, f);", "is not held by bridge")]
    [InlineData("b.put(0, f); b.put(1, f);", "is not held by bridge")]
    public async Task PutFrame_ItsHandleIsDead_SoItCannotBeSentOrPutTwice(string code, string error)
    {
        VNodeManifest stack = VNode("stack", "stack.csx", """
            Ipc.Serve("svc://stack", m => { m.Frame!.Write(new byte[16]); Ipc.Close("svc://stack"); });
            """, "  - CAP_MEM_SHARE");
        VNodeManifest bridge = VNode("bridge", "bridge.js", """
            const nic = net.open("00:1f.0").up();
            const b = nic.burst();
            b.write(0, [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]);
            const f = b.take(0);
            CODE
            'done';
            """.Replace("CODE", code), "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE");
        using Machine machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(_dir.File("cache")));
        RunReport report = await runner.RunAsync("t", [stack, bridge], machine, audit, TimeSpan.FromSeconds(5), CancellationToken.None);
        VNodeReport b = report.VNodes.Single(v => v.Name == "bridge");
        Assert.Contains(error, b.Error ?? "");
        Assert.Contains("bridge.js:5:14", b.Error ?? ""); // the second call on the line: where the dead handle was used
    }
}
