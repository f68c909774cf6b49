using System.Buffers.Binary;
using System.Diagnostics;
using NicScript.Driver.Wire;

namespace NicScript.Host.Runtime;

/// <summary>The built-in peer on the default machine's wire: ARPs for a target, pings it N times, checks every reply.</summary>
/// <remarks>
/// Design: one sender thread; replies arrive on whatever thread the wire delivers on (the V-Node loop that transmitted)
/// and are recorded lock-free by sequence number. At most <see cref="Window"/> requests are outstanding, so a run
/// measures the V-Nodes, not the queue limits; with a rate, requests are paced too. A full window is waited for by
/// spinning briefly and then sleeping until a reply wakes the sender (a reply sets the event only while the sender
/// sleeps), so on a small machine the peer does not take the cores the V-Nodes need. A reply counts only if everything
/// checks: Ethernet type, IPv4 header checksum, source address, ICMP type, checksum, identifier, sequence and the
/// payload byte for byte. Frames are built in one buffer made once.
/// </remarks>
public sealed class EchoPeer : IFrameReceiver, IDisposable
{
    public const int Window = 128, PayloadBytes = 56;
    private const ushort Identifier = 0x4e53; // "NS"

    private readonly byte[] _mac = [0x02, 0x4e, 0x53, 0x00, 0x00, 0x01];
    private readonly byte[] _ip, _target;
    private readonly long[] _sentAt, _rttTicks;
    private readonly int[] _replies;
    private readonly byte[] _frame = new byte[14 + 20 + 8 + PayloadBytes];
    private readonly double _rate;
    private readonly TaskCompletionSource<EchoPeerReport> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _targetMac;
    private WirePort? _port;
    private Thread? _thread;
    private volatile bool _stop;
    private volatile bool _sleeping;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 1);
    private int _received, _bad, _duplicates, _arpReplies;

    public EchoPeer(byte[] ip, byte[] target, int packets, double rate)
    {
        _ip = ip;
        _target = target;
        Packets = packets;
        _rate = rate;
        _sentAt = new long[packets];
        _rttTicks = new long[packets];
        _replies = new int[packets];
    }

    public int Packets { get; }

    public int Sent { get; private set; }

    public int Received => Volatile.Read(ref _received);

    public Task<EchoPeerReport> Done => _done.Task;

    public void Attach(Link link) => _port = link.Attach(this);

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "echo-peer" };
        _thread.Start();
    }

    private void Run()
    {
        try
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref _targetMac) is null && !_stop && clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                SendArp();
                for (int i = 0; i < 100 && Volatile.Read(ref _targetMac) is null && !_stop; i++) Thread.Sleep(2);
            }
            if (_targetMac is not null)
            {
                long interval = _rate > 0 ? (long)(Stopwatch.Frequency / _rate) : 0, next = Stopwatch.GetTimestamp();
                for (int seq = 0; seq < Packets && !_stop; seq++)
                {
                    var wait = new SpinWait();
                    while (!_stop && (seq - Received - _bad >= Window || (interval > 0 && Stopwatch.GetTimestamp() < next)))
                    {
                        if (seq - Received >= Window && Stopwatch.GetTimestamp() - _sentAt[seq - Window] > Stopwatch.Frequency) break; // lost: move on
                        if (interval > 0 || !wait.NextSpinWillYield) { wait.SpinOnce(); continue; }
                        _wake.Reset();
                        _sleeping = true;
                        Interlocked.MemoryBarrier(); // the flag is visible before Received is read again: a reply after this read sees it and wakes us
                        if (seq - Received - _bad >= Window) _wake.Wait(1); // 1 ms bounds the loss check
                        _sleeping = false;
                    }
                    next += interval;
                    SendEcho(seq);
                }
                long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // a second for the last replies
                while (!_stop && Received < Sent && Stopwatch.GetTimestamp() < deadline) Thread.Sleep(1);
            }
            _done.TrySetResult(Report());
        }
        catch (Exception e)
        {
            _done.TrySetException(e);
        }
    }

    private void SendArp()
    {
        Span<byte> f = _frame.AsSpan(0, 42);
        f[..6].Fill(0xff);
        _mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(f[14..], 1);      // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(f[16..], 0x0800); // IPv4
        f[18] = 6; f[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(f[20..], 1);      // request
        _mac.CopyTo(f[22..]);
        _ip.CopyTo(f[28..]);
        f[32..38].Clear();
        _target.CopyTo(f[38..]);
        _port?.Transmit(f);
    }

    private void SendEcho(int seq)
    {
        Span<byte> f = _frame;
        _targetMac!.CopyTo(f);
        _mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], 0x0800);
        Span<byte> ip = f[14..34];
        ip.Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 20 + 8 + PayloadBytes);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)seq);
        ip[8] = 64; ip[9] = 1;
        _ip.CopyTo(ip[12..]);
        _target.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));
        Span<byte> icmp = f[34..];
        icmp[0] = 8; icmp[1] = 0; icmp[2] = 0; icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], Identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], (ushort)seq);
        for (int i = 0; i < PayloadBytes; i++) icmp[8 + i] = Pattern(seq, i);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        _sentAt[seq] = Stopwatch.GetTimestamp();
        Sent = seq + 1;
        _port?.Transmit(f);
    }

    private static byte Pattern(int seq, int i) => (byte)(seq * 31 + i);

    public void Receive(ReadOnlySpan<byte> f)
    {
        long now = Stopwatch.GetTimestamp();
        if (f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f[12..]) == 0x0806)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(f[20..]) == 2 && f[28..32].SequenceEqual(_target) && f[38..42].SequenceEqual(_ip))
            {
                Interlocked.Increment(ref _arpReplies);
                Volatile.Write(ref _targetMac, f[22..28].ToArray());
            }
            return;
        }
        if (f.Length < 14 + 20 + 8 || BinaryPrimitives.ReadUInt16BigEndian(f[12..]) != 0x0800) return;
        ReadOnlySpan<byte> ip = f[14..34];
        ReadOnlySpan<byte> icmp = f[34..];
        bool mine = ip[9] == 1 && ip[16..20].SequenceEqual(_ip) && ip[12..16].SequenceEqual(_target);
        if (!mine) return;
        int seq = BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]);
        bool ok = ip[0] == 0x45 && InternetChecksum.Compute(ip) == 0 && icmp.Length >= 8 + PayloadBytes && icmp[0] == 0 &&
                  BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) == Identifier && seq < Packets && seq < Sent &&
                  InternetChecksum.Compute(icmp[..(8 + PayloadBytes)]) == 0;
        for (int i = 0; ok && i < PayloadBytes; i++) ok = icmp[8 + i] == Pattern(seq, i);
        if (!ok)
        {
            Interlocked.Increment(ref _bad);
            return;
        }
        if (Interlocked.Increment(ref _replies[seq]) > 1)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        _rttTicks[seq] = now - _sentAt[seq];
        Interlocked.Increment(ref _received);
        if (_sleeping) _wake.Set();
    }

    private EchoPeerReport Report()
    {
        double[] rtts = Enumerable.Range(0, Packets).Where(i => Volatile.Read(ref _replies[i]) > 0)
            .Select(i => _rttTicks[i] * 1e6 / Stopwatch.Frequency).Order().ToArray();
        double Q(double q) => rtts.Length == 0 ? 0 : rtts[Math.Min(rtts.Length - 1, (int)Math.Ceiling(q * rtts.Length) - 1)];
        return new EchoPeerReport(Sent, Received, Sent - Received, _bad, _duplicates, _targetMac is not null, Q(0.5), Q(0.99), Volatile.Read(ref _arpReplies));
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join(TimeSpan.FromSeconds(2)); // _wake is not disposed: a late reply on a V-Node's thread may still set it
    }
}

/// <summary>What the built-in peer saw: <c>sent</c>, <c>received</c>, <c>lost</c>, bad and duplicate replies, round trips in µs.</summary>
public sealed record EchoPeerReport(int Sent, int Received, int Lost, int Bad, int Duplicates, bool Resolved, double RttP50Us, double RttP99Us, int ArpReplies = 0);
