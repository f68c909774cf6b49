using NicScript.Host.Families;
using Serilog.Events;

namespace NicScript.Host.Cli;

/// <summary>The options of <c>nicscript run</c>.</summary>
/// <param name="Exports">The <c>--export ADDRESS[=SOCKET]</c> values: functions given to a guest over vfio-user.</param>
/// <param name="Trace">The exported functions' bus trace: a file, or <c>-</c> for standard error.</param>
/// <param name="Families">The options families add (<see cref="RunPart"/>), in registry order; null: none given.</param>
public sealed record RunOptions(
    string Target,
    bool Json,
    TimeSpan? Duration,
    LogEventLevel LogLevel,
    string? LogFile,
    string? AuditFile,
    string? CacheDirectory,
    bool Verbose,
    string? MachineFile = null,
    string? Wire = null,
    string? Pcap = null,
    string? Faults = null,
    int? Packets = null,
    double? Rate = null,
    int Restarts = 3,
    string? MetricsListen = null,
    IReadOnlyList<FamilyRunOptions>? Families = null,
    IReadOnlyList<string>? Exports = null,
    string? Trace = null);
