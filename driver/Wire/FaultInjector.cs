using System.Buffers;
using NicScript.Driver.Time;

namespace NicScript.Driver.Wire;

/// <summary>Drops, corrupts, duplicates, delays and reorders frames on a link, reproducibly for a seed.</summary>
/// <remarks>
/// Design: every frame draws the same five numbers from one seeded generator, in a fixed order, whatever happens to
/// it, so a run with the same seed and the same traffic makes the same decisions. Held frames (delayed, reordered)
/// are copied into pooled buffers — the only copy the fault path adds — and released by later traffic or
/// <see cref="Link.Poll"/>. One lock: decisions must be made in one order to be reproducible. It is a leaf lock: frames
/// are handed to receivers after it is released, never under it. Delays run on the injected
/// <see cref="IClock"/>, read only when a frame is delayed or one is held, so a test steps them exactly.
/// </remarks>
public sealed class FaultInjector
{
    private readonly object _sync = new();
    private readonly Random _rng;
    private readonly List<Held> _held = new();
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
        Held[]? released = null;
        int count = 0, bit = -1;
        bool send = false, duplicate = false;
        Held? after = null;
        lock (_sync)
        {
            Seen++;
            TakeDueLocked(ref released, ref count);
            double drop = _rng.NextDouble(), corrupt = _rng.NextDouble(), dup = _rng.NextDouble(), delay = _rng.NextDouble(), reorder = _rng.NextDouble();
            int draw = _rng.Next(Math.Max(1, frame.Length * 8));
            if (drop < Settings.Drop) Dropped++;
            else
            {
                if (corrupt < Settings.Corrupt && frame.Length > 0 && frame.Length <= MaxCorruptBytes)
                {
                    bit = draw;
                    Corrupted++;
                }
                if (delay < Settings.Delay)
                {
                    Delayed++;
                    _held.Add(Hold(from, frame, bit, _clock.NowNs + _delayNs));
                }
                else if (reorder < Settings.Reorder && _reordered is null)
                {
                    Reordered++;
                    _reordered = Hold(from, frame, bit, 0); // goes out right after the next frame
                }
                else
                {
                    send = true;
                    duplicate = dup < Settings.Duplicate;
                    if (duplicate) Duplicated++;
                    after = _reordered;
                    _reordered = null;
                }
            }
        }
        // Delivery happens outside the lock: a receiver takes its own device's locks, and a device transmits while it
        // holds them, so routing under this lock would order it against every device on the wire (a deadlock).
        EmitAll(link, released, count);
        if (!send) return;
        byte[]? flipped = null; // a pooled copy, not a shared buffer: a receiver may transmit (and corrupt) on this thread
        if (bit >= 0)
        {
            flipped = ArrayPool<byte>.Shared.Rent(frame.Length);
            frame.CopyTo(flipped);
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            frame = flipped.AsSpan(0, frame.Length);
        }
        Route(link, from, frame, bit >= 0);
        if (duplicate) Route(link, from, frame, bit >= 0);
        if (flipped is not null) ArrayPool<byte>.Shared.Return(flipped);
        if (after is not null) Emit(link, after);
    }

    internal void Release(Link link)
    {
        Held[]? released = null;
        int count = 0;
        lock (_sync) TakeDueLocked(ref released, ref count);
        EmitAll(link, released, count);
    }

    /// <summary>The link is going away: frames still held are dropped, not delivered — their receivers are being torn down
    /// with the machine, and a frame handed to a device whose driver has gone is only a DMA fault.</summary>
    internal void Discard()
    {
        lock (_sync)
        {
            foreach (Held h in _held) ArrayPool<byte>.Shared.Return(h.Buffer);
            Dropped += _held.Count;
            _held.Clear();
            if (_reordered is { } r)
            {
                ArrayPool<byte>.Shared.Return(r.Buffer);
                Dropped++;
                _reordered = null;
            }
        }
    }

    /// <summary>Moves the held frames whose time has come to <paramref name="released"/>, in the order they were held; the
    /// clock is read only when something is held.</summary>
    private void TakeDueLocked(ref Held[]? released, ref int count)
    {
        if (_held.Count == 0) return;
        long now = _clock.NowNs;
        for (int i = 0; i < _held.Count;)
        {
            if (_held[i].Due > now) { i++; continue; }
            Append(ref released, ref count, _held[i]);
            _held.RemoveAt(i);
        }
    }

    private static void Append(ref Held[]? list, ref int count, Held h)
    {
        if (list is null || count == list.Length)
        {
            Held[] bigger = ArrayPool<Held>.Shared.Rent(Math.Max(8, 2 * count));
            list?.AsSpan(0, count).CopyTo(bigger);
            if (list is not null) ArrayPool<Held>.Shared.Return(list, clearArray: true);
            list = bigger;
        }
        list[count++] = h;
    }

    private static void EmitAll(Link link, Held[]? released, int count)
    {
        if (released is null) return;
        for (int i = 0; i < count; i++) Emit(link, released[i]);
        ArrayPool<Held>.Shared.Return(released, clearArray: true);
    }

    /// <summary>Copies a frame to hold it, flipping bit <paramref name="bit"/> of the copy when it is corrupted (&gt;= 0).</summary>
    private static Held Hold(WirePort from, ReadOnlySpan<byte> frame, int bit, long due)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(copy);
        if (bit >= 0) copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return new Held(from, copy, frame.Length, due, bit >= 0);
    }

    private static void Emit(Link link, Held h)
    {
        Route(link, h.From, h.Buffer.AsSpan(0, h.Length), h.Corrupted);
        ArrayPool<byte>.Shared.Return(h.Buffer);
    }

    private const int MaxCorruptBytes = 16 * 1024;

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
