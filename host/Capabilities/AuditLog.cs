using System.Text.Json;
using Serilog;

namespace NicScript.Host.Capabilities;

/// <summary>Where denials go: a structured log event always, and one JSON line each when an audit file is open.</summary>
/// <remarks>Thread-safe: V-Nodes run on their own loops and may be denied at the same moment.</remarks>
public sealed class AuditLog : IDisposable
{
    private readonly ILogger _log;
    private readonly object _sync = new();
    private readonly Utf8JsonWriter? _json;
    private readonly Stream? _file;
    private readonly List<CapabilityDenial> _denials = new();

    public AuditLog(ILogger log, string? path = null)
    {
        _log = log.ForContext<AuditLog>();
        if (path is null) return;
        try
        {
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UserErrorException($"{path}: cannot open audit file: {e.Message}");
        }
        _json = new Utf8JsonWriter(_file, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Denials so far, oldest first.</summary>
    public IReadOnlyList<CapabilityDenial> Denials
    {
        get { lock (_sync) return _denials.ToArray(); }
    }

    public void Record(CapabilityDenial d)
    {
        _log.Warning("Denied {Capability} {Requested} to {VNode} at {Script}:{Line}:{Column}",
            d.Capability, d.Requested, d.VNode, d.At.File, d.At.Line, d.At.Column);
        lock (_sync)
        {
            _denials.Add(d);
            if (_json is null) return;
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteString("time", d.Time);
            _json.WriteString("event", "capability_denied");
            _json.WriteString("vnode", d.VNode);
            _json.WriteString("capability", d.Capability);
            _json.WriteString("requested", d.Requested);
            _json.WriteString("script", d.At.File);
            _json.WriteNumber("line", d.At.Line);
            _json.WriteNumber("column", d.At.Column);
            _json.WriteString("reason", d.Reason);
            _json.WriteEndObject();
            _json.Flush();
            _file!.WriteByte((byte)'\n');
            _file.Flush();
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _json?.Dispose();
            _file?.Dispose();
        }
    }
}
