using NicScript.Host.Capabilities;

namespace NicScript.Host.Runtime;

/// <summary>What a run did: each V-Node's outcome and metrics, and the denials on the way.</summary>
public sealed record RunReport(string Target, TimeSpan Elapsed, IReadOnlyList<VNodeReport> VNodes, IReadOnlyList<CapabilityDenial> Denials)
{
    /// <summary>What the built-in peer saw, when it ran.</summary>
    public EchoPeerReport? Peer { get; init; }

    public bool Succeeded => VNodes.All(v => v.Status is VNodeStatus.Completed or VNodeStatus.Stopped);
}

/// <summary>One V-Node's part of a <see cref="RunReport"/>.</summary>
public sealed record VNodeReport(string Name, string Script, VNodeStatus Status, string? Error, object? Result,
    long HandlerCalls, IReadOnlyList<Metric> Metrics)
{
    /// <summary>Times the supervisor started it again after a failure.</summary>
    public int Restarts { get; init; }

    /// <summary>CPU time its loop used (its own work: top level, handlers, continuations), of the last instance.</summary>
    public TimeSpan CpuTime { get; init; }
}

public enum VNodeStatus
{
    /// <summary>The top level returned and nothing was left registered.</summary>
    Completed,
    /// <summary>Still serving when the run's duration ended; stopped cleanly.</summary>
    Stopped,
    Failed,
    Cancelled,
}
