using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Runtime;

public sealed class VNodeRunnerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, string caps = "  - CAP_LOG_WRITE", double share = 0.5)
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, share: share, metrics: "[\"packets_rx\"]")));
    }

    private static RunReport Run(TimeSpan? duration, params VNodeManifest[] vnodes)
    {
        using var machine = new Machine();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(Path.Combine(Path.GetTempPath(), "nicscript-test-cache")));
        return runner.RunAsync("sys", vnodes, machine, audit, duration ?? TimeSpan.FromSeconds(20), CancellationToken.None).GetAwaiter().GetResult();
    }

    [Fact]
    public void Ipc_MessagesFromCSharpToJavaScript_ArriveInOrderOnTheServersLoop()
    {
        VNodeManifest server = VNode("echo", "echo.js", """
            let got = [];
            ipc.serve("svc://echo", m => {
              metrics.inc("packets_rx");
              got.push(m.body);
              if (m.body === "stop") { ipc.close("svc://echo"); log.info("order {Order}", got.join(",")); }
            });
            """);
        VNodeManifest client = VNode("client", "client.csx", """
            for (var i = 0; i < 5; i++) Ipc.Send("svc://echo", "ping", i.ToString());
            Ipc.Send("svc://echo", "ping", "stop")
            """);
        RunReport report = Run(null, server, client);
        Assert.True(report.Succeeded, string.Join("; ", report.VNodes.Select(v => v.Error)));
        VNodeReport echo = report.VNodes[0];
        Assert.Equal(VNodeStatus.Completed, echo.Status); // the server closed its channel, so the run ended by itself
        Assert.Equal(6, echo.HandlerCalls);
        Assert.Equal(6, echo.Metrics.Single().Value);
        Assert.Equal(true, report.VNodes[1].Result);
    }

    [Fact]
    public void Ipc_SendToNobody_FailsTheSenderOnly()
    {
        VNodeManifest a = VNode("a", "a.js", "ipc.serve('svc://a', m => {}); 1");
        VNodeManifest b = VNode("b", "b.js", "ipc.send('svc://nobody', 'x')");
        RunReport report = Run(TimeSpan.FromMilliseconds(300), a, b);
        Assert.Equal(VNodeStatus.Stopped, report.VNodes[0].Status);
        Assert.Equal(VNodeStatus.Failed, report.VNodes[1].Status);
        Assert.Contains("nobody serves svc://nobody", report.VNodes[1].Error);
    }

    [Fact]
    public void HandlerThatLoopsForever_FailsItsVNode_OthersKeepRunning()
    {
        // The first call returns (it has the start-up allowance); the second spins and meets the 100 ms slice.
        VNodeManifest spin = VNode("spin", "spin.js", "ipc.serve('svc://spin', m => { if (m.body === 'spin') while (true) {} });", share: 0.05);
        VNodeManifest steady = VNode("steady", "steady.js", "ipc.serve('svc://steady', m => metrics.inc('packets_rx')); ipc.send('svc://spin', 'go', 'warm'); ipc.send('svc://spin', 'go', 'spin');");
        RunReport report = Run(TimeSpan.FromSeconds(4), spin, steady);
        Assert.Equal(VNodeStatus.Failed, report.VNodes[0].Status);
        Assert.Contains("CPU budget exceeded", report.VNodes[0].Error);
        Assert.Contains("100 ms per call", report.VNodes[0].Error);
        Assert.Equal(VNodeStatus.Stopped, report.VNodes[1].Status);
    }

    [Fact]
    public void Duration_StopsAServingVNodeCleanly()
    {
        VNodeManifest server = VNode("srv", "srv.csx", "Ipc.Serve(\"svc://srv\", m => { });");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RunReport report = Run(TimeSpan.FromMilliseconds(200), server);
        Assert.Equal(VNodeStatus.Stopped, report.VNodes.Single().Status);
        Assert.True(report.Succeeded);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"a 200 ms run took {clock.Elapsed} to stop (hung?)");
    }

    [Fact]
    public async Task Stop_ReclaimsTheVNodesDmaBuffers()
    {
        using var machine = new Machine();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        VNodeManifest m = VNode("holder", "holder.js", "dma.alloc(4096); dma.alloc(100); 2", "  - CAP_DMA_ALLOC");
        var runner = new VNodeRunner(log, new ScriptEngineFactory());
        RunReport report = await runner.RunAsync("t", [m], machine, audit, null, CancellationToken.None);
        Assert.True(report.Succeeded);
        Assert.Empty(machine.Dma.Regions);
    }
}
