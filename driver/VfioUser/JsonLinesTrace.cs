using System.Diagnostics;
using System.Text.Json;

namespace NicScript.Driver.VfioUser;

/// <summary>Writes a bus trace as JSON lines, one object per event:
/// <c>{"t_us":12,"fn":"0000:00:1f.0","ev":"bar_write","index":4,"offset":12288,"size":2,"value":0}</c>.</summary>
/// <remarks>Numbers stay numbers (a reader filters with <c>jq</c>); <c>detail</c> appears only when there is one. Time is
/// microseconds since the trace was opened. A line is written and flushed under one lock, so lines never interleave.</remarks>
public sealed class JsonLinesTrace : IVfioUserTrace, IDisposable
{
    private readonly object _sync = new();
    private readonly Stream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly long _start = Stopwatch.GetTimestamp();

    public JsonLinesTrace(Stream stream)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(stream);
    }

    public void Record(in VfioUserTraceEvent e)
    {
        lock (_sync)
        {
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteNumber("t_us", (long)Stopwatch.GetElapsedTime(_start).TotalMicroseconds);
            _json.WriteString("fn", e.Function);
            _json.WriteString("ev", Name(e.Kind));
            _json.WriteNumber("index", e.Index);
            _json.WriteNumber("offset", e.Offset);
            _json.WriteNumber("size", e.Size);
            _json.WriteNumber("value", e.Value);
            if (e.Detail is not null) _json.WriteString("detail", e.Detail);
            _json.WriteEndObject();
            _json.Flush();
            _stream.WriteByte((byte)'\n');
            _stream.Flush();
        }
    }

    /// <summary>The event's name in a trace line: the kind in snake case (<c>BarWrite</c> → <c>bar_write</c>).</summary>
    public static string Name(VfioUserTraceKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    public void Dispose()
    {
        lock (_sync)
        {
            _json.Dispose();
            _stream.Dispose();
        }
    }
}
