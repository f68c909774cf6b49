using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Runtime;

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
