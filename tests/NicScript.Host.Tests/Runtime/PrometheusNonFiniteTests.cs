using NicScript.Host.Capabilities;
using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Runtime;

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
