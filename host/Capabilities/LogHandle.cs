using Serilog.Events;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>log</c> global: structured log events from the script, granted by <c>CAP_LOG_WRITE</c>.</summary>
/// <remarks>The message is a Serilog template: <c>log.info("rx {Count} frames", n)</c> keeps <c>Count</c> a property.</remarks>
public sealed class LogHandle
{
    private readonly VNodeContext _ctx;

    public LogHandle(VNodeContext ctx) => _ctx = ctx;

    [ScriptApi] public void Debug(string message, params object?[] values) => Write(LogEventLevel.Debug, message, values);

    [ScriptApi] public void Info(string message, params object?[] values) => Write(LogEventLevel.Information, message, values);

    [ScriptApi] public void Warn(string message, params object?[] values) => Write(LogEventLevel.Warning, message, values);

    [ScriptApi] public void Error(string message, params object?[] values) => Write(LogEventLevel.Error, message, values);

    private void Write(LogEventLevel level, string message, object?[] values)
    {
        _ctx.Require(Manifests.CapabilityKind.LogWrite);
        _ctx.Log.ForContext("Source", "script").Write(level, message, values);
    }
}
