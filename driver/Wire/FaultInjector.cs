using System.Buffers;
using NicScript.Driver.Time;

namespace NicScript.Driver.Wire;

/// <summary>Drops, corrupts, duplicates, delays and reorders frames on a link, reproducibly for a seed.</summary>
/// <remarks>
/// Design: every frame draws the same five numbers from one seeded generator, in a fixed order, whatever happens to
/// it, so a run with the same seed and the same traffic makes the same decisions. Held frames (delayed, reordered)
/// are copied into pooled buffers — the only copy the fault path adds — and released by later traffic or
/// <see cref="Link.Poll"/>. One lock: decisions must be made in one order to be reproducible. Delays run on the injected
/// <see cref="IClock"/>, read only when a frame is delayed or one is held, so a test steps them exactly.
/// </remarks>
public sealed class FaultInjector
{
    private readonly object _sync = new();
    private readonly Random _rng;
    private readonly List<Held> _held = new();
    private readonly byte[] _scratch = new byte[16 * 1024];
    private readonly IClock _clock;
    private readonly long _delayNs;
    private Held? _reordered;

    /// <param name="clock">Where delays are timed; the monotonic clock when null.</param>
    public FaultInjector(FaultSettings settings, IClock? clock = null)
    {
        if (settings.Validate() is { } problem) throw new ArgumentException(problem, nameof(settings));
        Settings = settings;
        _rng = new Random(settings.Seed);
        _clock = clock ?? MonotonicClock.Instance;
        _delayNs = settings.EffectiveDelay.Ticks * (1_000_000_000 / TimeSpan.TicksPerSecond);
    }

    public FaultSettings Settings { get; }

    public long Seen { get; private set; }
    public long Dropped { get; private set; }
    public long Corrupted { get; private set; }
    public long Duplicated { get; private set; }
    public long Delayed { get; private set; }
    public long Reordered { get; private set; }

    internal void Apply(WirePort from, ReadOnlySpan<byte> frame, Link link)
    {
        lock (_sync)
        {
            Seen++;
            ReleaseLocked(link, force: false);
            double drop = _rng.NextDouble(), corrupt = _rng.NextDouble(), dup = _rng.NextDouble(), delay = _rng.NextDouble(), reorder = _rng.NextDouble();
            int bit = _rng.Next(Math.Max(1, frame.Length * 8));
            bool corrupted = false;
            if (drop < Settings.Drop)
            {
                Dropped++;
                return;
            }
            if (corrupt < Settings.Corrupt && frame.Length > 0 && frame.Length <= _scratch.Length)
            {
                frame.CopyTo(_scratch);
                _scratch[bit / 8] ^= (byte)(1 << (bit % 8));
                frame = _scratch.AsSpan(0, frame.Length);
                Corrupted++;
                corrupted = true;
            }
            if (delay < Settings.Delay)
            {
                Delayed++;
                _held.Add(Hold(from, frame, _clock.NowNs + _delayNs, corrupted));
                return;
            }
            if (reorder < Settings.Reorder && _reordered is null)
            {
                Reordered++;
                _reordered = Hold(from, frame, 0, corrupted); // goes out right after the next frame
                return;
            }
            Route(link, from, frame, corrupted);
            if (dup < Settings.Duplicate)
            {
                Duplicated++;
                Route(link, from, frame, corrupted);
            }
            if (_reordered is { } r)
            {
                _reordered = null;
                Emit(link, r);
            }
        }
    }

    internal void Release(Link link, bool force)
    {
        lock (_sync) ReleaseLocked(link, force);
    }

    private void ReleaseLocked(Link link, bool force)
    {
        long now = _held.Count == 0 ? 0 : _clock.NowNs; // nothing held: no clock read on the way
        for (int i = 0; i < _held.Count;)
        {
            if (!force && _held[i].Due > now) { i++; continue; }
            Held h = _held[i];
            _held.RemoveAt(i);
            Emit(link, h);
        }
        if (force && _reordered is { } r)
        {
            _reordered = null;
            Emit(link, r);
        }
    }

    private static Held Hold(WirePort from, ReadOnlySpan<byte> frame, long due, bool corrupted)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(copy);
        return new Held(from, copy, frame.Length, due, corrupted);
    }

    private static void Emit(Link link, Held h)
    {
        Route(link, h.From, h.Buffer.AsSpan(0, h.Length), h.Corrupted);
        ArrayPool<byte>.Shared.Return(h.Buffer);
    }

    [ThreadStatic] private static bool t_corrupted;

    /// <summary>True while a receiver is handed a frame this injector corrupted: its FCS would not match, so a receiver
    /// that checks the FCS (a DPU's optical port: ierrors) can drop it; one that does not sees the flipped bit.</summary>
    public static bool DeliveringCorruptFrame => t_corrupted;

    private static void Route(Link link, WirePort from, ReadOnlySpan<byte> frame, bool corrupted)
    {
        t_corrupted = corrupted;
        try
        {
            link.Route(from, frame);
        }
        finally
        {
            t_corrupted = false;
        }
    }

    /// <summary>Frames held for delay or reorder right now.</summary>
    public int Holding
    {
        get { lock (_sync) return _held.Count + (_reordered is null ? 0 : 1); }
    }

    private sealed record Held(WirePort From, byte[] Buffer, int Length, long Due, bool Corrupted);
}
