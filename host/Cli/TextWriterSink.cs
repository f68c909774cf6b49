using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace NicScript.Host.Cli;

/// <summary>Writes log events as text to a <see cref="TextWriter"/> (standard error, or a test's recorder).</summary>
internal sealed class TextWriterSink : ILogEventSink
{
    private readonly TextWriter _writer;
    private readonly MessageTemplateTextFormatter _formatter;
    private readonly object _sync = new();

    public TextWriterSink(TextWriter writer, string template)
    {
        _writer = writer;
        _formatter = new MessageTemplateTextFormatter(template);
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_sync)
        {
            _formatter.Format(logEvent, _writer);
            _writer.Flush();
        }
    }
}
