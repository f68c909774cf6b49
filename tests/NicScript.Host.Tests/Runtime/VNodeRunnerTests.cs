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

public sealed class PrometheusExporterTests
{
    [Fact]
    public async Task MetricsListen_ServesDeclaredMetricsAsTextExposition()
    {
        using var dir = new TempDir();
        dir.Write("m.js", "metrics.inc('packets_rx', 2); metrics.observe('latency_ns', 700); metrics.observe('latency_ns', 3000); ipc.serve('svc://m', m => {});");
        string manifest = dir.Write("m.yml", TestVNode.Manifest("meter", "  - CAP_LOG_WRITE", "m.js"));
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)) { probe.Start(); port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port; }
        var output = new StringWriter();
        var cli = new NicScript.Host.Cli.CliContext(Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(output) }), output, new StringWriter());
        Task<int> run = Program.RunAsync(cli, ["run", manifest, "--duration", "4s", "--metrics-listen", $"127.0.0.1:{port}"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        string text = "";
        for (int i = 0; i < 40 && !text.Contains("packets_rx"); i++)
        {
            try { text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"); }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        Assert.Equal(0, await run);
        Assert.Contains("# TYPE packets_rx_total counter", text); // Prometheus's names: a counter ends in _total,
        Assert.Contains("packets_rx_total{vnode=\"meter\"} 2", text);
        Assert.Contains("latency_seconds_bucket{vnode=\"meter\",le=\"1.024e-06\"} 1", text); // and nanoseconds are seconds
        Assert.Contains("latency_seconds_bucket{vnode=\"meter\",le=\"+Inf\"} 2", text);
        Assert.Contains("latency_seconds_sum{vnode=\"meter\"} 3.7e-06", text);
        Assert.Contains("latency_seconds_count{vnode=\"meter\"} 2", text);
    }

    [Fact]
    public void MetricsListen_NotLoopback_IsRefused() =>
        Assert.Contains("not a loopback address", Assert.Throws<UserErrorException>(() => new PrometheusExporter("0.0.0.0:9100", () => [])).Message);
}

public sealed class TimerTests
{
    [Fact]
    public void Timers_FireOnTheLoop_InOrder_AndCancelStopsThem()
    {
        VNodeReport r = ScriptRun.Single("t.js", """
            const order = [];
            let ticks = 0;
            const tick = vnode.every(5, () => { ticks++; if (ticks === 3) { vnode.cancel(tick); order.push("every x3"); } });
            vnode.after(1, () => order.push("after 1"));
            vnode.after(200, () => { order.push("after 200"); metrics.set("latency_ns", ticks); metrics.inc("packets_rx", order.length); });
            const never = vnode.after(100, () => order.push("cancelled"));
            vnode.cancel(never);
            """, "  - CAP_LOG_WRITE");
        Assert.Equal(VNodeStatus.Completed, r.Status); // no timer left: the run ended by itself
        Assert.Equal(3, r.Metrics.Single(m => m.Name == "latency_ns").Value);
        Assert.Equal(3, r.Metrics.Single(m => m.Name == "packets_rx").Value); // "after 1", "every x3", "after 200"
    }

    [Fact]
    public void Timer_NegativeDelay_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "VNode.Every(0, () => { });", "  - CAP_LOG_WRITE");
        Assert.Contains("timer of 0 ms", r.Error);
    }
}

public sealed class PrometheusNonFiniteTests
{
    [Fact]
    public void Render_SumOverflowedToInfinity_IsPlusInfAsTheFormatSpellsIt()
    {
        using TestVNode v = TestVNode.Create("inf", "  - CAP_LOG_WRITE");
        var metrics = new MetricsHandle(v.Context);
        metrics.Observe("latency_ns", 1e308);
        metrics.Observe("latency_ns", 1e308);
        metrics.Inc("packets_rx", 1e308);
        metrics.Inc("packets_rx", 1e308);
        string text = PrometheusExporter.Render([v.Context]);
        Assert.Contains("latency_seconds_sum{vnode=\"inf\"} +Inf\n", text);
        Assert.Contains("packets_rx_total{vnode=\"inf\"} +Inf\n", text);
        Assert.DoesNotContain("Infinity", text);
        Assert.DoesNotContain("∞", text);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Set_NotFinite_IsTheScriptsErrorAndChangesNothing(double value)
    {
        using TestVNode v = TestVNode.Create("nan", "  - CAP_LOG_WRITE");
        var metrics = new MetricsHandle(v.Context);
        Assert.Contains("is not a finite number", Assert.Throws<ScriptCallException>(() => metrics.Set("packets_rx", value)).Message);
        Assert.Contains("is not a finite number", Assert.Throws<ScriptCallException>(() => metrics.Observe("latency_ns", value)).Message);
        Assert.Equal("", PrometheusExporter.Render([v.Context]));
    }
}
