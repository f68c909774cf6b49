using System.Diagnostics;
using NicScript.Host.Capabilities;
using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Runtime;

/// <summary>The <c>--metrics-listen</c> text follows Prometheus's conventions: what <c>promtool check metrics</c> (Debian's
/// <c>prometheus</c> package, installed by .ci/run) accepts without a warning, on a live endpoint.</summary>
public sealed class PrometheusExporterConventionTests
{
    [Theory]
    [InlineData("packets_rx", MetricKind.Counter, "packets_rx_total", 3, 3)]
    [InlineData("frames_total", MetricKind.Counter, "frames_total", 3, 3)]
    [InlineData("packets_rx", MetricKind.Gauge, "packets_rx", 3, 3)]
    [InlineData("irq_latency_ns", MetricKind.Histogram, "irq_latency_seconds", 1500, 1.5e-06)]
    [InlineData("rtt_us", MetricKind.Gauge, "rtt_seconds", 250, 0.00025)]
    [InlineData("busy_ms", MetricKind.Counter, "busy_seconds_total", 1500, 1.5)]
    [InlineData("offered_bytes_per_s", MetricKind.Gauge, "offered_bytes_per_second", 1000, 1000)]
    [InlineData("frames_per_ms", MetricKind.Gauge, "frames_per_second", 5, 5000)]
    [InlineData("buffer_kb", MetricKind.Gauge, "buffer_bytes", 4, 4000)]
    [InlineData("link_bits", MetricKind.Counter, "link_bytes_total", 16, 2)]
    [InlineData("dma_bytes", MetricKind.Gauge, "dma_bytes", 7, 7)]
    public void For_DeclaredName_IsTheBaseUnitNameAndValue(string declared, MetricKind kind, string exported, double value, double converted)
    {
        PrometheusName name = PrometheusName.For(declared, kind);
        Assert.Equal(exported, name.Exported);
        Assert.Equal(converted, name.Convert(value));
    }

    [Fact]
    public void Render_EveryFamily_HasHelpNamingTheDeclarationAndTheConversion()
    {
        using TestVNode v = TestVNode.Create("meter", "  - CAP_LOG_WRITE");
        var metrics = new MetricsHandle(v.Context);
        metrics.Inc("packets_rx", 2);
        metrics.Observe("latency_ns", 1000);
        string text = PrometheusExporter.Render([v.Context]);
        Assert.Contains("# HELP packets_rx_total packets_rx as declared in observability.metrics of V-Node meter: a counter the script adds to with metrics.inc.\n# TYPE packets_rx_total counter\n", text);
        Assert.Contains("# HELP latency_seconds latency_ns as declared in observability.metrics of V-Node meter: a histogram of the values the script observes with metrics.observe (power-of-two buckets); nanoseconds converted to seconds.\n# TYPE latency_seconds histogram\n", text);
        Assert.Contains("latency_seconds_bucket{vnode=\"meter\",le=\"1.024e-06\"} 1\n", text);
        Assert.Contains("latency_seconds_sum{vnode=\"meter\"} 1e-06\n", text);
    }

    [Fact]
    public void Render_TwoDeclarationsMeetingInOneName_ExportsTheFirstAndSaysWhyNotTheOther()
    {
        using TestVNode v = TestVNode.Create("meter", "  - CAP_LOG_WRITE");
        VNodeContext peer = v.AdmitPeer("other", "  - CAP_LOG_WRITE");
        new MetricsHandle(v.Context).Inc("packets_rx", 1);
        new MetricsHandle(peer).Set("packets_rx", 5); // a gauge here: packets_rx, not packets_rx_total — both are exported
        new MetricsHandle(v.Context).Set("latency_ns", 5);
        new MetricsHandle(peer).Observe("latency_ns", 5); // a histogram of the same exported name: cannot be
        string text = PrometheusExporter.Render([v.Context, peer]);
        Assert.Contains("packets_rx_total{vnode=\"meter\"} 1\n", text);
        Assert.Contains("packets_rx{vnode=\"other\"} 5\n", text);
        Assert.Contains("latency_seconds{vnode=\"meter\"} 5e-09\n", text);
        Assert.DoesNotContain("latency_seconds_bucket", text);
        Assert.Contains("# nicscript: latency_ns of V-Node other (histogram) is not exported: latency_seconds is taken by latency_ns of V-Node meter\n", text);
    }

    [SkippableFact]
    public async Task MetricsListen_LiveEndpoint_PassesPromtoolCheckMetricsWithoutAWarning()
    {
        string? why = PromtoolMissing();
        Skip.If(why is not null, why);
        using var dir = new TempDir();
        dir.Write("m.js", """
            metrics.inc('packets_rx', 2);
            metrics.inc('frames_total', 3);
            metrics.observe('irq_latency_ns', 700);
            metrics.observe('irq_latency_ns', 3000);
            metrics.set('offered_bytes_per_s', 1000);
            metrics.set('rtt_ms', 1.5);
            ipc.serve('svc://m', m => {});
            """);
        string manifest = dir.Write("m.yml", TestVNode.Manifest("meter", "  - CAP_LOG_WRITE", "m.js",
            metrics: "[\"packets_rx\", \"frames_total\", \"irq_latency_ns\", \"offered_bytes_per_s\", \"rtt_ms\"]"));
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)) { probe.Start(); port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port; }

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.Path };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "nicscript.dll"), "run", manifest, "--duration", "10m", "--metrics-listen", $"127.0.0.1:{port}"])
            psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["NICSCRIPT_CACHE"] = Path.Combine(dir.Path, "cache");
        using Process host = Process.Start(psi)!;
        Task<string> hostErr = host.StandardError.ReadToEndAsync();
        _ = host.StandardOutput.ReadToEndAsync();
        string text = "";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var deadline = Stopwatch.StartNew(); // a hang guard, not a measurement
            while (!text.Contains("rtt_seconds{", StringComparison.Ordinal) || !text.Contains("irq_latency_seconds_count{vnode=\"meter\"} 2", StringComparison.Ordinal))
            {
                if (host.HasExited) Assert.Fail($"the run ended before its metrics were scraped: {await hostErr}");
                if (deadline.Elapsed > TimeSpan.FromMinutes(3)) Assert.Fail($"no complete /metrics within 3 minutes; last: {text}");
                try { text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                await Task.Delay(100);
            }
        }
        finally
        {
            if (!host.HasExited) host.Kill(entireProcessTree: true);
        }

        var (exit, output) = Promtool(text);
        Assert.True(exit == 0 && output.Length == 0, $"promtool check metrics: exit {exit}: {output}\n--- the endpoint's text:\n{text}");
        Assert.Contains("# TYPE packets_rx_total counter\n", text);
        Assert.Contains("# TYPE frames_total counter\n", text);
        Assert.Contains("irq_latency_seconds_sum{vnode=\"meter\"} 3.7e-06\n", text);
        Assert.Contains("offered_bytes_per_second{vnode=\"meter\"} 1000\n", text);
        Assert.Contains("rtt_seconds{vnode=\"meter\"} 0.0015\n", text);
    }

    /// <summary>Null when <c>promtool check metrics</c> lints: a good sample passes silently and a counter without
    /// <c>_total</c> is warned about; else why not.</summary>
    private static string? PromtoolMissing()
    {
        try
        {
            var (goodExit, goodOut) = Promtool("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n");
            var (badExit, badOut) = Promtool("# HELP a A.\n# TYPE a counter\na 1\n");
            return goodExit == 0 && goodOut.Length == 0 && badExit != 0 && badOut.Contains("_total", StringComparison.Ordinal)
                ? null : "promtool check metrics does not lint as Prometheus 2.x does (.ci/run installs Debian's prometheus)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "needs promtool (Debian's prometheus package; .ci/run installs it)";
        }
    }

    /// <summary><c>promtool check metrics</c> on <paramref name="text"/>: its exit code and everything it printed.</summary>
    private static (int Exit, string Output) Promtool(string text)
    {
        var psi = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("check");
        psi.ArgumentList.Add("metrics");
        using Process p = Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(text);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill();
            Assert.Fail("promtool check metrics did not end");
        }
        p.WaitForExit();
        return (p.ExitCode, (output.Result + error.Result).Trim());
    }
}
