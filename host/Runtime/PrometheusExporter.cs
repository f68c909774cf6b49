using System.Globalization;
using System.Net;
using System.Text;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Runtime;

/// <summary>Serves the metrics the running V-Nodes' manifests declare, in the Prometheus text exposition format, at /metrics.</summary>
/// <remarks>Counters and gauges as they are; histograms as cumulative <c>_bucket{le=...}</c> series (powers of two) with <c>_sum</c>
/// and <c>_count</c>. Every series carries a <c>vnode</c> label. A metric not yet used has no kind and is not exported.</remarks>
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

    /// <summary>The exposition text for <paramref name="vnodes"/>.</summary>
    public static string Render(IEnumerable<VNodeContext> vnodes)
    {
        var sb = new StringBuilder();
        var byName = vnodes.SelectMany(v => v.Metrics.All.Where(m => m.Kind != MetricKind.Unused).Select(m => (VNode: v.Name, Metric: m)))
            .GroupBy(x => x.Metric.Name);
        foreach (var group in byName)
        {
            MetricKind kind = group.First().Metric.Kind;
            sb.Append("# TYPE ").Append(group.Key).Append(' ').Append(kind.ToString().ToLowerInvariant()).Append('\n');
            foreach (var (vnode, m) in group)
            {
                string label = $"vnode=\"{vnode}\"";
                if (m.Kind != MetricKind.Histogram)
                {
                    sb.Append(m.Name).Append('{').Append(label).Append("} ").Append(Number(m.Value)).Append('\n');
                    continue;
                }
                long cumulative = 0;
                for (int i = 0; i < Metric.BucketCount; i++)
                {
                    cumulative += m.BucketValue(i);
                    if (m.BucketValue(i) == 0 && cumulative == 0) continue; // leading empty buckets say nothing
                    sb.Append(m.Name).Append("_bucket{").Append(label).Append(",le=\"").Append(Number(Metric.UpperBound(i))).Append("\"} ").Append(cumulative).Append('\n');
                    if (cumulative == m.Count) break;
                }
                sb.Append(m.Name).Append("_bucket{").Append(label).Append(",le=\"+Inf\"} ").Append(m.Count).Append('\n');
                sb.Append(m.Name).Append("_sum{").Append(label).Append("} ").Append(Number(m.Sum)).Append('\n');
                sb.Append(m.Name).Append("_count{").Append(label).Append("} ").Append(m.Count).Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>A sample value as the exposition format spells it: <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c> or a Go-style float.</summary>
    private static string Number(double v) => double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
        : v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(2));
    }
}
