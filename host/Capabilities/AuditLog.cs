using System.Text.Json;
using NicScript.Driver.Memory;
using Serilog;

namespace NicScript.Host.Capabilities;

/// <summary>Where denials and DMA faults go: a structured log event always, and one JSON line each when an audit file is open.</summary>
/// <remarks>Thread-safe: V-Nodes run on their own loops and may be denied at the same moment; devices report DMA faults
/// from the thread that made the access (rate-limited per function by its IOMMU domain).</remarks>
public sealed class AuditLog : IDisposable
{
    private readonly ILogger _log;
    private readonly object _sync = new();
    private readonly Utf8JsonWriter? _json;
    private readonly Stream? _file;
    private readonly List<CapabilityDenial> _denials = new();
    private readonly List<(string VNode, DmaFault Fault)> _dmaFaults = new();

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

    /// <summary>DMA faults so far, oldest first, with the V-Node whose driver programmed the device.</summary>
    public IReadOnlyList<(string VNode, DmaFault Fault)> DmaFaults
    {
        get { lock (_sync) return _dmaFaults.ToArray(); }
    }

    /// <summary>The sink a V-Node's DMA owner reports its devices' faults to: each is recorded under <paramref name="vnode"/>.</summary>
    public IDmaFaultSink DmaFaultsOf(string vnode) => new VNodeFaults(this, vnode);

    /// <summary>A device accessed memory outside its function's IOMMU domain while <paramref name="vnode"/>'s driver drove it.</summary>
    public void Record(string vnode, DmaFault f)
    {
        string access = f.Write ? "write" : "read";
        _log.Warning("DMA fault {Function} {Access} 0x{Iova:x}+{Length} ({Reason}) by the driver of {VNode}; {Total} faults on the function",
            f.Function, access, f.Iova, f.Length, f.Reason, vnode, f.Total);
        lock (_sync)
        {
            _dmaFaults.Add((vnode, f));
            if (_json is null) return;
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteString("time", DateTimeOffset.UtcNow);
            _json.WriteString("event", "dma_fault");
            _json.WriteString("vnode", vnode);
            _json.WriteString("function", f.Function);
            _json.WriteString("iova", $"0x{f.Iova:x}");
            _json.WriteNumber("length", f.Length);
            _json.WriteString("access", access);
            _json.WriteString("reason", f.Reason.ToString());
            _json.WriteNumber("faults", f.Total);
            _json.WriteNumber("suppressed", f.Suppressed);
            _json.WriteEndObject();
            _json.Flush();
            _file!.WriteByte((byte)'\n');
            _file.Flush();
        }
    }

    private sealed class VNodeFaults(AuditLog audit, string vnode) : IDmaFaultSink
    {
        public void DmaFault(DmaFault fault) => audit.Record(vnode, fault);
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
