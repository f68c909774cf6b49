using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace NicScript.Host.Cli;

/// <summary>Writes log events as text lines to a <see cref="TextWriter"/> (standard error, or a test's recorder):
/// <c>12:00:01.250 INF [net-bridge] message</c>.</summary>
/// <remarks>
/// Design: the bracket names where the line comes from: the V-Node (<c>VNode</c>, set on every V-Node's logger), else the
/// part of the host (<c>Component</c>: <c>dpu-agent</c>, <c>machine</c>); a line with neither has no bracket, never an
/// empty one. With <c>color</c> the level is coloured (warnings yellow, errors red, debug dim), as on a terminal.
/// </remarks>
internal sealed class TextWriterSink : ILogEventSink
{
    private const string Reset = "\u001b[0m";
    private readonly TextWriter _writer;
    private readonly bool _color;
    private readonly MessageTemplateTextFormatter _message = new("{Message:lj}{NewLine}{Exception}");
    private readonly object _sync = new();

    public TextWriterSink(TextWriter writer, bool color)
    {
        _writer = writer;
        _color = color;
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_sync)
        {
            _writer.Write(logEvent.Timestamp.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture));
            _writer.Write(' ');
            string level = Abbreviation(logEvent.Level);
            if (_color && LevelColor(logEvent.Level) is { } color) _writer.Write(color + level + Reset);
            else _writer.Write(level);
            _writer.Write(' ');
            if (Origin(logEvent) is { } origin)
            {
                _writer.Write('[');
                _writer.Write(origin);
                _writer.Write("] ");
            }
            _message.Format(logEvent, _writer);
            _writer.Flush();
        }
    }

    /// <summary>The V-Node's name, else the host component's; null when the event names neither.</summary>
    internal static string? Origin(LogEvent logEvent)
    {
        foreach (string name in (ReadOnlySpan<string>)["VNode", "Component"])
            if (logEvent.Properties.TryGetValue(name, out LogEventPropertyValue? v) && v is ScalarValue { Value: string s } && s.Length > 0)
                return s;
        return null;
    }

    private static string Abbreviation(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "VRB",
        LogEventLevel.Debug => "DBG",
        LogEventLevel.Information => "INF",
        LogEventLevel.Warning => "WRN",
        LogEventLevel.Error => "ERR",
        _ => "FTL",
    };

    private static string? LevelColor(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose or LogEventLevel.Debug => "\u001b[2m",
        LogEventLevel.Warning => "\u001b[33m",
        LogEventLevel.Error or LogEventLevel.Fatal => "\u001b[31m",
        _ => null,
    };
}
