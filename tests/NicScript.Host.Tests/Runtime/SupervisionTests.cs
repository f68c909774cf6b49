using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Runtime;

public sealed class SupervisionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, string caps = "  - CAP_DMA_ALLOC")
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, metrics: "[\"packets_rx\"]")));
    }

    [Fact]
    public async Task FailingVNode_IsRestarted_ItsBuffersReclaimed_TheOtherKeepsRunning()
    {
        // client counts the hellos flaky says at each start, and sends "boom" after the first one.
        VNodeManifest client = VNode("client", "client.js", """
            let hellos = 0;
            ipc.serve("svc://client", m => {
              hellos++;
              metrics.inc("packets_rx");
              if (hellos === 1) ipc.send("svc://flaky", "boom");
              else ipc.close("svc://client");
            });
            """);
        VNodeManifest flaky = VNode("flaky", "flaky.js", """
            dma.alloc(8192);                                   // held when it fails: must be reclaimed
            ipc.serve("svc://flaky", m => { if (m.type === "boom") throw new Error("boom"); });
            ipc.send("svc://client", "hello");
            """);
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(_dir.File("cache"))) { RestartLimit = 3, RestartBackoff = TimeSpan.FromMilliseconds(10) };
        RunReport report = await runner.RunAsync("t", [client, flaky], machine, audit, TimeSpan.FromSeconds(3), CancellationToken.None);
        VNodeReport c = report.VNodes[0], f = report.VNodes[1];
        Assert.Equal(VNodeStatus.Completed, c.Status);       // closed its channel after the second hello
        Assert.Equal(2, c.Metrics.Single().Value);
        Assert.Equal(1, f.Restarts);
        Assert.Equal(VNodeStatus.Stopped, f.Status);          // the restarted instance serves on
        Assert.Empty(machine.Dma.Regions); // neither instance's buffer outlived it
    }

    [Fact]
    public async Task TopLevelFailure_IsNotRestarted()
    {
        VNodeManifest bad = VNode("bad", "bad.js", "ipc.serve('svc://bad', m => {}); throw new Error('at start');");
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(_dir.File("cache"))) { RestartLimit = 3 };
        RunReport report = await runner.RunAsync("t", [bad], machine, audit, TimeSpan.FromSeconds(3), CancellationToken.None);
        Assert.Equal((VNodeStatus.Failed, 0), (report.VNodes[0].Status, report.VNodes[0].Restarts));
        Assert.Contains("at start", report.VNodes[0].Error);
    }
}
