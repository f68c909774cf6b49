using System.Globalization;
using System.Net;
using System.Text;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Runtime;

/// <summary>Serves the metrics the running V-Nodes' manifests declare, in the Prometheus text exposition format, at /metrics.</summary>
/// <remarks>Named as Prometheus's conventions and <c>promtool check metrics</c> want (<see cref="PrometheusName"/>: base units,
/// counters ending in <c>_total</c>), each family with a <c># HELP</c> line; histograms as cumulative <c>_bucket{le=...}</c>
/// series (powers of two, in the base unit) with <c>_sum</c> and <c>_count</c>. Every series carries a <c>vnode</c> label.
/// A metric not yet used has no kind and is not exported.</remarks>
public sealed class PrometheusExporter : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<IEnumerable<VNodeContext>> _vnodes;
    private readonly Task _loop;

    /// <param name="endpoint"><c>127.0.0.1:PORT</c> (loopback only).</param>
    public PrometheusExporter(string endpoint, Func<IEnumerable<VNodeContext>> vnodes)
    {
        string[] parts = endpoint.Split(':');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out IPAddress? ip) || !IPAddress.IsLoopback(ip) ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new UserErrorException($"--metrics-listen: '{endpoint}' is not a loopback address and port (e.g. 127.0.0.1:9100)");
        _vnodes = vnodes;
        _listener.Prefixes.Add($"http://{parts[0]}:{port}/");
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new UserErrorException($"--metrics-listen {endpoint}: {e.Message}");
        }
        _loop = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext http;
            try { http = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            using HttpListenerResponse response = http.Response;
            if (http.Request.Url?.AbsolutePath != "/metrics")
            {
                response.StatusCode = 404;
                continue;
            }
            byte[] body = Encoding.UTF8.GetBytes(Render(_vnodes()));
            response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
        }
    }

    /// <summary>The exposition text for <paramref name="vnodes"/>: per metric family a <c># HELP</c> and a <c># TYPE</c>
    /// line, then one series per V-Node that declared and used it.</summary>
    public static string Render(IEnumerable<VNodeContext> vnodes)
    {
        var sb = new StringBuilder();
        var families = new List<Family>();
        var byName = new Dictionary<string, Family>(StringComparer.Ordinal);
        var skipped = new List<string>();
        foreach (VNodeContext v in vnodes)
            foreach (Metric m in v.Metrics.All)
            {
                MetricKind kind = m.Kind;
                if (kind == MetricKind.Unused) continue;
                PrometheusName name = PrometheusName.For(m.Name, kind);
                if (!byName.TryGetValue(name.Exported, out Family? family))
                {
                    family = new Family(name.Exported, kind, []);
                    byName.Add(name.Exported, family);
                    families.Add(family);
                }
                // Two declarations that meet in one exported name (lat_ns and lat_us in one V-Node, or packets_rx a
                // gauge here and a histogram there) cannot both be exported: the first one seen stays, the rest say why.
                if (family.Kind != kind || family.Series.Any(s => s.VNode == v.Name))
                {
                    skipped.Add($"# nicscript: {m.Name} of V-Node {v.Name} ({kind.ToString().ToLowerInvariant()}) is not exported: {name.Exported} is taken by {family.Series[0].Name.Declared} of V-Node {family.Series[0].VNode}\n");
                    continue;
                }
                family.Series.Add((v.Name, name, m));
            }
        foreach (Family family in families)
        {
            sb.Append("# HELP ").Append(family.Name).Append(' ').Append(Help(family)).Append('\n');
            sb.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Kind.ToString().ToLowerInvariant()).Append('\n');
            foreach (var (vnode, name, m) in family.Series)
            {
                string label = $"vnode=\"{LabelValue(vnode)}\"";
                if (m.Kind != MetricKind.Histogram)
                {
                    sb.Append(family.Name).Append('{').Append(label).Append("} ").Append(Number(name.Convert(m.Value))).Append('\n');
                    continue;
                }
                long cumulative = 0, count = m.Count;
                for (int i = 0; i < Metric.BucketCount; i++)
                {
                    cumulative += m.BucketValue(i);
                    if (m.BucketValue(i) == 0 && cumulative == 0) continue; // leading empty buckets say nothing
                    sb.Append(family.Name).Append("_bucket{").Append(label).Append(",le=\"").Append(Number(name.Convert(Metric.UpperBound(i)))).Append("\"} ").Append(cumulative).Append('\n');
                    if (cumulative >= count) break;
                }
                sb.Append(family.Name).Append("_bucket{").Append(label).Append(",le=\"+Inf\"} ").Append(Math.Max(count, cumulative)).Append('\n');
                sb.Append(family.Name).Append("_sum{").Append(label).Append("} ").Append(Number(name.Convert(m.Sum))).Append('\n');
                sb.Append(family.Name).Append("_count{").Append(label).Append("} ").Append(Math.Max(count, cumulative)).Append('\n');
            }
        }
        foreach (string line in skipped) sb.Append(line);
        return sb.ToString();
    }

    /// <summary>One exported metric family: its name, kind and series (one per V-Node).</summary>
    private sealed record Family(string Name, MetricKind Kind, List<(string VNode, PrometheusName Name, Metric Metric)> Series);

    /// <summary>The <c># HELP</c> text: what the manifest declared, who declared it, how the script feeds it, and any
    /// unit conversion — a manifest names its metrics but does not describe them, so this is what is known.</summary>
    private static string Help(Family family)
    {
        string declared = string.Join(", ", family.Series.Select(s => s.Name.Declared).Distinct(StringComparer.Ordinal));
        string who = string.Join(", ", family.Series.Select(s => s.VNode).Distinct(StringComparer.Ordinal));
        string how = family.Kind switch
        {
            MetricKind.Counter => "a counter the script adds to with metrics.inc",
            MetricKind.Gauge => "a gauge the script sets with metrics.set",
            _ => "a histogram of the values the script observes with metrics.observe (power-of-two buckets)",
        };
        string conversion = string.Join("; ", family.Series.Select(s => s.Name.Conversion).OfType<string>().Distinct(StringComparer.Ordinal));
        string text = $"{declared} as declared in observability.metrics of V-Node{(who.Contains(',', StringComparison.Ordinal) ? "s" : "")} {who}: {how}{(conversion.Length == 0 ? "" : "; " + conversion)}.";
        return text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>A label value as the format escapes it (backslash, double quote, newline).</summary>
    private static string LabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>A sample value as the exposition format spells it: <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c> or a Go-style float.</summary>
    private static string Number(double v) => double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
        : v.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e'); // 1.024e-06, as Go and Prometheus's own clients write it

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(2));
    }
}
