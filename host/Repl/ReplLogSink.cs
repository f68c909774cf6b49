using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace NicScript.Host.Repl;

/// <summary>Log events in a REPL session (a script's log.info, denials) go where background output goes: above the prompt.</summary>
public sealed class ReplLogSink : ILogEventSink
{
    private readonly MessageTemplateTextFormatter _format = new("{Level:u3} {Message:lj}{NewLine}{Exception}");
    private readonly TextWriter _fallback;

    public ReplLogSink(TextWriter fallback) => _fallback = fallback;

    public ReplSession? Session { get; set; }

    public void Emit(LogEvent logEvent)
    {
        var text = new StringWriter();
        _format.Format(logEvent, text);
        string line = text.ToString().TrimEnd();
        if (Session is { } s) s.Background(line);
        else _fallback.WriteLine(line);
    }
}
