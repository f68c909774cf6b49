namespace NicScript.Driver.Devices.Dpu;

/// <summary>One meter of the DPU (reference/dpu.md §5.5): RFC 2697's single-rate marker, colour-blind, with excess burst 0,
/// so a frame is green (passes) or red (dropped).</summary>
/// <remarks>
/// The committed bucket starts full and fills at the committed rate up to the committed burst; a frame of B units is
/// green when the bucket holds at least B, which are then taken. Units are bytes (rate in kbit/s, 1 kbit = 1000 bit, so
/// rate × 125 bytes/s; burst max(rate × 1.25, 16384) bytes) or packets (rate in packets/s; burst max(rate / 100, 16)).
/// The bucket is kept in unit·nanoseconds so no fraction of a token is lost between frames. Called under the switch's
/// lock (one writer); the counters are read anywhere.
/// </remarks>
public sealed class DpuMeter
{
    private const long NsPerSecond = 1_000_000_000;
    private Int128 _tokens; // units × 1e9
    private long _lastNs;
    private long _unitsPerSecond, _burst;
    private long _passPackets, _passBytes, _dropPackets, _dropBytes;

    public DpuMeter(uint id, uint rate, bool packets, long nowNs)
    {
        Id = id;
        SetRate(rate, packets, nowNs);
        _tokens = (Int128)_burst * NsPerSecond; // starts full
        _lastNs = nowNs;
    }

    public uint Id { get; }

    public uint Rate { get; private set; }

    public bool Packets { get; private set; }

    /// <summary>The committed burst, in bytes or packets.</summary>
    public long Burst => _burst;

    public long PassPackets => Volatile.Read(ref _passPackets);
    public long PassBytes => Volatile.Read(ref _passBytes);
    public long DropPackets => Volatile.Read(ref _dropPackets);
    public long DropBytes => Volatile.Read(ref _dropBytes);

    /// <summary>A new rate from now on: what the bucket earned at the old rate stays (capped at the new burst).</summary>
    public void SetRate(uint rate, bool packets, long nowNs)
    {
        if (rate == 0) throw new ArgumentOutOfRangeException(nameof(rate), "a meter's rate is at least 1");
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
        _tokens += (Int128)_unitsPerSecond * elapsed;
        if (_tokens > cap) _tokens = cap;
    }

    /// <summary>Marks one frame of <paramref name="bytes"/> bytes: true (green) takes its units from the bucket.</summary>
    public bool Admit(int bytes, long nowNs)
    {
        Refill(nowNs);
        Int128 need = (Int128)(Packets ? 1 : bytes) * NsPerSecond;
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
