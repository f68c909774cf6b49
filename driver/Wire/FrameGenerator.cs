using NicScript.Driver.Time;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NicScript.Driver.Wire;

/// <summary>What a <see cref="FrameGenerator"/> sends: Ethernet/VLAN/IPv4-or-IPv6/UDP frames of one size over a number of
/// flows (flow i uses UDP source port <see cref="SourcePort"/> + i).</summary>
public sealed record TrafficSpec
{
    /// <summary>Frame length from destination MAC to the end of the payload (no FCS), at least the headers.</summary>
    public int Size { get; init; } = 64;
    public string Dmac { get; init; } = "02:00:00:00:00:01";
    public string Smac { get; init; } = "02:00:00:00:00:02";
    /// <summary>An 802.1Q tag with this VLAN id, or none (−1).</summary>
    public int Vlan { get; init; } = -1;
    public string Source { get; init; } = "10.0.0.1";
    public string Destination { get; init; } = "10.0.0.2";
    /// <summary>17 UDP or 6 TCP (a bare header without options).</summary>
    public int Protocol { get; init; } = 17;
    public int SourcePort { get; init; } = 10000;
    public int DestinationPort { get; init; } = 9;
    public int Flows { get; init; } = 1;

    /// <summary>Why this spec cannot make a frame, or null.</summary>
    public string? Problem()
    {
        if (!MacAddress.TryParse(Dmac, out _) || !MacAddress.TryParse(Smac, out _)) return "dmac/smac must be MAC addresses like 02:00:00:00:00:01";
        if (!IPAddress.TryParse(Source, out IPAddress? s) || !IPAddress.TryParse(Destination, out IPAddress? d)) return "source/destination must be IP addresses";
        if (s.AddressFamily != d.AddressFamily) return "source and destination must both be IPv4 or both IPv6";
        if (Vlan is < -1 or > 4095) return $"vlan {Vlan} is not -1 (untagged) or 0..4095";
        if (Protocol is not (6 or 17)) return $"protocol {Protocol} is not 6 (TCP) or 17 (UDP)";
        if (Flows is < 1 or > 65536) return $"flows {Flows} is not 1..65536";
        if (SourcePort is < 0 or > 65535 || DestinationPort is < 0 or > 65535) return "ports are 0..65535";
        if (Size < HeaderBytes || Size > 65535) return $"size {Size} is not {HeaderBytes}..65535";
        return null;
    }

    /// <summary>Ethernet (+ tag) + IP + L4 header bytes.</summary>
    public int HeaderBytes => 14 + (Vlan >= 0 ? 4 : 0) + (Destination.Contains(':') ? 40 : 20) + (Protocol == 6 ? 20 : 8);
}

/// <summary>A traffic source (and sink) on any wire: it builds the frames of a <see cref="TrafficSpec"/> once per flow and
/// sends them — as fast as asked, paced on its clock (real time unless a test injects a <see cref="ManualClock"/> and steps
/// it), or paced on a <see cref="ManualClock"/> that it advances itself so a test sees an exact rate — counting what it sent
/// and what came back to it.</summary>
/// <remarks>Frames are built into one pinned buffer per flow up front and sent as bursts of up to
/// <see cref="FrameBatch.Capacity"/> (one <see cref="WirePort.TransmitBurst"/>, so the receiver takes each burst at once);
/// sending copies nothing and allocates nothing. A paced send goes frame by frame, as its clock moves between frames.</remarks>
public sealed unsafe class FrameGenerator : IFrameReceiver, IDisposable
{
    private readonly FrameBatch _batch = new();
    private readonly Link _link;
    private readonly WirePort _port;
    private readonly IClock _clock;
    private byte[][] _frames = [];
    private int _next;
    private long _sent, _sentBytes, _received, _receivedBytes;

    /// <param name="clock">What <see cref="Run"/> paces on; the monotonic clock when null.</param>
    public FrameGenerator(Link link, IClock? clock = null)
    {
        _link = link;
        _clock = clock ?? MonotonicClock.Instance;
        _port = link.Attach(this);
        Configure(new TrafficSpec());
    }

    public TrafficSpec Spec { get; private set; } = new();

    /// <summary>The wire the generator is plugged into.</summary>
    public Link Link => _link;

    public long Sent => Volatile.Read(ref _sent);
    public long SentBytes => Volatile.Read(ref _sentBytes);
    public long Received => Volatile.Read(ref _received);
    public long ReceivedBytes => Volatile.Read(ref _receivedBytes);

    /// <summary>Frames to send from now on; throws <see cref="ArgumentException"/> with the reason for a bad spec.</summary>
    public void Configure(TrafficSpec spec)
    {
        if (spec.Problem() is { } why) throw new ArgumentException(why, nameof(spec));
        Spec = spec;
        _frames = Enumerable.Range(0, spec.Flows).Select(i => Build(spec, i)).ToArray();
        _next = 0;
    }

    /// <summary>The frame of flow <paramref name="flow"/>, as it goes on the wire.</summary>
    public ReadOnlySpan<byte> Frame(int flow) => _frames[flow];

    /// <summary>Sends <paramref name="count"/> frames back to back, flows in turn.</summary>
    public void Send(int count)
    {
        while (count > 0)
        {
            int n = Math.Min(count, FrameBatch.Capacity);
            SendBurst(n);
            count -= n;
        }
    }

    /// <summary>The next <paramref name="count"/> (≤ <see cref="FrameBatch.Capacity"/>) frames as one burst.</summary>
    private void SendBurst(int count)
    {
        _batch.Clear();
        for (int i = 0; i < count; i++)
        {
            byte[] f = _frames[_next];
            _next = _next + 1 == _frames.Length ? 0 : _next + 1;
            fixed (byte* p = f) _batch.Add(p, f.Length); // pinned when built: the address stays valid after the fixed block
        }
        _sent += count;
        _sentBytes += _batch.Bytes;
        _port.TransmitBurst(_batch);
    }

    /// <summary>Sends <paramref name="count"/> frames at <paramref name="framesPerSecond"/> on <paramref name="clock"/>: the
    /// clock moves 1/rate before each frame after the first, so the frames are exactly evenly spaced in its time.</summary>
    public void SendPaced(int count, double framesPerSecond, ManualClock clock)
    {
        if (framesPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(framesPerSecond));
        double gapNs = 1e9 / framesPerSecond, owed = 0;
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                owed += gapNs;
                long step = (long)owed;
                owed -= step;
                clock.AdvanceNs(step);
            }
            SendOne();
        }
    }

    /// <summary>Sends at <paramref name="framesPerSecond"/> for <paramref name="duration"/> of the generator's clock (a
    /// sleeping pacer: bursts catch up with the schedule, so the average rate holds); returns frames sent.</summary>
    public long Run(double framesPerSecond, TimeSpan duration, CancellationToken cancel = default)
    {
        if (framesPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(framesPerSecond));
        long start = _clock.NowNs, durationNs = duration.Ticks * (1_000_000_000 / TimeSpan.TicksPerSecond), elapsed;
        long sent = 0;
        while ((elapsed = _clock.NowNs - start) < durationNs && !cancel.IsCancellationRequested)
        {
            long due = (long)(elapsed * framesPerSecond / 1e9) + 1;
            if (due > sent) Send((int)Math.Min(due - sent, int.MaxValue));
            sent = Math.Max(sent, due);
            Thread.Sleep(1);
        }
        return sent;
    }

    private void SendOne()
    {
        byte[] f = _frames[_next];
        _next = _next + 1 == _frames.Length ? 0 : _next + 1;
        _sent++;
        _sentBytes += f.Length;
        _port.Transmit(f);
    }

    /// <summary>Frames that came to the generator's port.</summary>
    public void Receive(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref _received);
        Interlocked.Add(ref _receivedBytes, frame.Length);
    }

    private static byte[] Build(TrafficSpec s, int flow)
    {
        byte[] f = GC.AllocateArray<byte>(s.Size, pinned: true); // a burst holds its address
        Span<byte> b = f;
        MacAddress.TryParse(s.Dmac, out byte[] dmac);
        MacAddress.TryParse(s.Smac, out byte[] smac);
        dmac.CopyTo(b);
        smac.CopyTo(b[6..]);
        int at = 12;
        if (s.Vlan >= 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b[at..], 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(b[(at + 2)..], (ushort)s.Vlan);
            at += 4;
        }
        IPAddress src = IPAddress.Parse(s.Source), dst = IPAddress.Parse(s.Destination);
        bool v6 = dst.AddressFamily == AddressFamily.InterNetworkV6;
        BinaryPrimitives.WriteUInt16BigEndian(b[at..], v6 ? (ushort)0x86DD : (ushort)0x0800);
        Span<byte> ip = b[(at + 2)..];
        int ipHeader = v6 ? 40 : 20, l4Length = s.Size - at - 2 - ipHeader;
        if (v6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)l4Length);
            ip[6] = (byte)s.Protocol;
            ip[7] = 64;
            src.GetAddressBytes().CopyTo(ip[8..]);
            dst.GetAddressBytes().CopyTo(ip[24..]);
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ipHeader + l4Length));
            ip[8] = 64;
            ip[9] = (byte)s.Protocol;
            src.GetAddressBytes().CopyTo(ip[12..]);
            dst.GetAddressBytes().CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        }
        Span<byte> l4 = ip[ipHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(l4, (ushort)((s.SourcePort + flow) & 0xFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(l4[2..], (ushort)s.DestinationPort);
        if (s.Protocol == 17) BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)l4Length); // UDP checksum 0: none (IPv4)
        else l4[12] = 0x50; // TCP data offset 5
        return f;
    }

    public void Dispose() => _link.Detach(_port);
}
