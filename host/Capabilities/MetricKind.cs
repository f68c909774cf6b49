namespace NicScript.Host.Capabilities;

/// <summary>What a declared metric became on first use: Prometheus's counter, gauge or histogram.</summary>
public enum MetricKind
{
    Unused,
    Counter,
    Gauge,
    Histogram,
}
