using System.Numerics;

namespace NicScript.Host.Capabilities;

/// <summary>One declared metric: a counter, a gauge, or a histogram with power-of-two buckets.</summary>
/// <remarks>
/// Design: the kind is fixed by the first update (<c>Inc</c> → counter, <c>Set</c> → gauge, <c>Observe</c> →
/// histogram); a later update of another kind is refused. Updates are lock-free (Interlocked) so a V-Node's loop
/// never waits for a reader; readers may see a histogram's count and sum a few updates apart.
/// Histogram bucket <c>i</c> counts values v with 2^(i-1) &lt; v ≤ 2^i (bucket 0: v ≤ 1), the shape of latency data.
/// </remarks>
public sealed class Metric
{
    public const int BucketCount = 64;

    private readonly long[] _buckets = new long[BucketCount];
    private int _kind;
    private long _count;
    private double _value;
    private double _sum;

    internal Metric(string name) => Name = name;

    public string Name { get; }

    public MetricKind Kind => (MetricKind)Volatile.Read(ref _kind);

    /// <summary>Counter or gauge value; for a histogram, the number of observations.</summary>
    public double Value => Kind == MetricKind.Histogram ? Volatile.Read(ref _count) : Volatile.Read(ref _value);

    public long Count => Volatile.Read(ref _count);

    public double Sum => Volatile.Read(ref _sum);

    /// <summary>Observations per bucket (histograms only); bucket i's upper bound is <see cref="UpperBound"/>(i).</summary>
    public long BucketValue(int i) => Volatile.Read(ref _buckets[i]);

    public static double UpperBound(int bucket) => Math.Pow(2, bucket);

    /// <summary>The value at quantile <paramref name="q"/> (0..1), as the upper bound of its bucket; 0 when empty.</summary>
    public double Quantile(double q)
    {
        long total = Count;
        if (total == 0) return 0;
        long rank = (long)Math.Ceiling(q * total), seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += BucketValue(i);
            if (seen >= rank && seen > 0) return UpperBound(i);
        }
        return UpperBound(BucketCount - 1);
    }

    internal bool TryInc(double delta)
    {
        if (!TryFix(MetricKind.Counter) || delta < 0 || double.IsNaN(delta)) return false;
        Add(ref _value, delta);
        Interlocked.Increment(ref _count);
        return true;
    }

    internal bool TrySet(double value)
    {
        if (!TryFix(MetricKind.Gauge)) return false;
        Volatile.Write(ref _value, value);
        Interlocked.Increment(ref _count);
        return true;
    }

    internal bool TryObserve(double value)
    {
        if (!TryFix(MetricKind.Histogram) || double.IsNaN(value)) return false;
        ulong v = value <= 1 ? 1 : (ulong)Math.Min(Math.Ceiling(value), 1UL << 62);
        int bucket = 64 - BitOperations.LeadingZeroCount(v - 1); // ceil(log2 v)
        Interlocked.Increment(ref _buckets[Math.Min(bucket, BucketCount - 1)]);
        Interlocked.Increment(ref _count);
        Add(ref _sum, value);
        return true;
    }

    private bool TryFix(MetricKind kind)
    {
        int was = Interlocked.CompareExchange(ref _kind, (int)kind, (int)MetricKind.Unused);
        return was == (int)MetricKind.Unused || was == (int)kind;
    }

    private static void Add(ref double target, double delta)
    {
        double seen = Volatile.Read(ref target);
        while (true)
        {
            double was = Interlocked.CompareExchange(ref target, seen + delta, seen);
            if (was.Equals(seen)) return;
            seen = was;
        }
    }
}
