using System.Diagnostics;

namespace NicScript.Driver.Time;

/// <summary>Where a device model reads time: the monotonic clock in a running agent, a manual one in tests that step
/// time exactly (meters, bond link monitoring).</summary>
public interface IClock
{
    /// <summary>Nanoseconds since an arbitrary start; never goes back.</summary>
    long NowNs { get; }
}

/// <summary>The process's monotonic clock.</summary>
internal sealed class MonotonicClock : IClock
{
    public static readonly MonotonicClock Instance = new();

    private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    public long NowNs => (long)(Stopwatch.GetTimestamp() * NsPerTick);
}

/// <summary>A clock that moves only when told to.</summary>
public sealed class ManualClock : IClock
{
    private long _now;

    public long NowNs => Volatile.Read(ref _now);

    public void Advance(TimeSpan by) => AdvanceNs(by.Ticks * 100);

    public void AdvanceNs(long ns)
    {
        if (ns < 0) throw new ArgumentOutOfRangeException(nameof(ns), "a clock does not go back");
        Interlocked.Add(ref _now, ns);
    }
}
