namespace NicScript.Driver.Devices.Dpu;

/// <summary>One meter of the DPU (reference/dpu.md §5.5): RFC 2697's single-rate marker, colour-blind, with excess burst 0,
/// so a frame is green (passes) or red (dropped).</summary>
/// <remarks>
/// The committed bucket starts full and fills at the committed rate up to the committed burst; a frame of B units is
/// green when the bucket holds at least B, which are then taken. Units are bytes (rate in kbit/s, 1 kbit = 1000 bit, so
/// rate × 125 bytes/s; burst max(rate × 1.25, 16384) bytes) or packets (rate in packets/s; burst max(rate / 100, 16)).
/// The bucket is kept in unit·nanoseconds so no fraction of a token is lost between frames. The meter has its own lock
/// (frames from several cables may share a meter; the switch takes it once for a run of frames, <see cref="Sync"/>); the
/// counters are read anywhere.
/// </remarks>
public sealed class DpuMeter
{
    private const long NsPerSecond = 1_000_000_000;
    private readonly object _sync = new();
    private Int128 _tokens; // units × 1e9
    private long _lastNs;
    private long _unitsPerSecond, _burst;
    private long _passPackets, _passBytes, _dropPackets, _dropBytes;
    private long _credited, _creditedPart; // whole units the bucket gained, and the part of one (units × 1e9) not yet whole

    public DpuMeter(uint id, uint rate, bool packets, long nowNs)
    {
        Id = id;
        SetRate(rate, packets, nowNs);
        _tokens = (Int128)_burst * NsPerSecond; // starts full
        _lastNs = nowNs;
    }

    public uint Id { get; }

    /// <summary>Held while frames are marked (<see cref="AdmitLocked"/>) or the rate changes.</summary>
    internal object Sync => _sync;

    public uint Rate { get; private set; }

    public bool Packets { get; private set; }

    /// <summary>The committed burst, in bytes or packets.</summary>
    public long Burst => _burst;

    public long PassPackets => Volatile.Read(ref _passPackets);
    public long PassBytes => Volatile.Read(ref _passBytes);
    public long DropPackets => Volatile.Read(ref _dropPackets);
    public long DropBytes => Volatile.Read(ref _dropBytes);

    /// <summary>Units (bytes or packets) the bucket has gained since the meter was made, beyond the full burst it starts
    /// with; what the cap threw away is not counted. A meter that polices keeps <c>pass ≤ burst + credited</c> (while its
    /// rate and burst stay), whatever the clock did: the check a test makes instead of timing the traffic.</summary>
    public long Credited => Volatile.Read(ref _credited);

    /// <summary>A new rate from now on: what the bucket earned at the old rate stays (capped at the new burst).</summary>
    public void SetRate(uint rate, bool packets, long nowNs)
    {
        if (rate == 0) throw new ArgumentOutOfRangeException(nameof(rate), "a meter's rate is at least 1");
        lock (_sync) SetRateLocked(rate, packets, nowNs);
    }

    private void SetRateLocked(uint rate, bool packets, long nowNs)
    {
        if (_unitsPerSecond != 0) Refill(nowNs);
        Rate = rate;
        Packets = packets;
        _unitsPerSecond = packets ? rate : rate * 125L;
        _burst = packets ? Math.Max(rate / 100, 16) : Math.Max((long)(rate * 1.25), 16384);
        Int128 cap = (Int128)_burst * NsPerSecond;
        if (_tokens > cap) _tokens = cap;
    }

    private void Refill(long nowNs)
    {
        long elapsed = nowNs - _lastNs;
        if (elapsed <= 0) return;
        _lastNs = nowNs;
        Int128 cap = (Int128)_burst * NsPerSecond;
        Int128 room = cap - _tokens, earned = (Int128)_unitsPerSecond * elapsed;
        if (earned > room) earned = room;
        if (earned <= 0) return;
        _tokens += earned;
        _creditedPart += (long)earned; // at most a burst (≤ 5.4e9 units) × 1e9: fits
        if (_creditedPart >= NsPerSecond)
        {
            _credited += _creditedPart / NsPerSecond;
            _creditedPart %= NsPerSecond;
        }
    }

    /// <summary>Marks one frame of <paramref name="bytes"/> bytes: true (green) takes its units from the bucket.</summary>
    public bool Admit(int bytes, long nowNs)
    {
        lock (_sync) return AdmitLocked(bytes, nowNs);
    }

    /// <summary>As <see cref="Admit"/>, with <see cref="Sync"/> held by the caller.</summary>
    internal bool AdmitLocked(int bytes, long nowNs)
    {
        Refill(nowNs);
        long need = (Packets ? 1 : bytes) * NsPerSecond; // < 2^31 × 1e9 fits a long: no 128-bit multiply per frame
        if (_tokens >= need)
        {
            _tokens -= need;
            _passPackets++;
            _passBytes += bytes;
            return true;
        }
        _dropPackets++;
        _dropBytes += bytes;
        return false;
    }
}
