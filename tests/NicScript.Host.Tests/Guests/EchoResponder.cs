using System.Buffers.Binary;
using System.Collections.Concurrent;
using NicScript.Driver.Wire;

namespace NicScript.Host.Tests.Guests;

/// <summary>The far end of a function's wire for a guest's ping: answers ARP requests for its address and ICMP echo
/// requests to it. Replies go out from a thread of its own, so a device's transmit path never re-enters its receive path
/// through the responder.</summary>
internal sealed class EchoResponder : IFrameReceiver, IDisposable
{
    private readonly BlockingCollection<byte[]> _replies = new();
    private readonly byte[] _mac, _ip;
    private readonly WirePort _port;
    private readonly Thread _sender;
    private int _echoes;

    /// <param name="wire">The wire whose free end the responder takes.</param>
    /// <param name="ip">Its IPv4 address (4 bytes).</param>
    /// <param name="mac">Its MAC address (6 bytes).</param>
    public EchoResponder(Link wire, byte[] ip, byte[] mac)
    {
        (_ip, _mac) = (ip, mac);
        _port = wire.Attach(this);
        _sender = new Thread(() =>
        {
            foreach (byte[] reply in _replies.GetConsumingEnumerable()) _port.Transmit(reply);
        }) { IsBackground = true, Name = "echo-responder" };
        _sender.Start();
    }

    /// <summary>Echo replies sent.</summary>
    public int Echoes => Volatile.Read(ref _echoes);

    public void Receive(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 42) return;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        if (type == 0x0806 && BinaryPrimitives.ReadUInt16BigEndian(frame[20..]) == 1 && frame.Slice(38, 4).SequenceEqual(_ip))
        {
            byte[] r = new byte[42];
            frame[6..12].CopyTo(r); // to the asker
            _mac.CopyTo(r, 6);
            frame[12..20].CopyTo(r.AsSpan(12)); // ARP, Ethernet/IPv4, sizes
            BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(20), 2); // reply
            _mac.CopyTo(r, 22);
            _ip.CopyTo(r, 28);
            frame.Slice(22, 10).CopyTo(r.AsSpan(32)); // the asker's MAC and IP
            _replies.Add(r);
            return;
        }
        if (type != 0x0800 || frame[23] != 1 || !frame.Slice(30, 4).SequenceEqual(_ip)) return; // IPv4 ICMP to us
        int ihl = (frame[14] & 0xF) * 4, total = BinaryPrimitives.ReadUInt16BigEndian(frame[16..]);
        if (ihl < 20 || total < ihl + 8 || 14 + total > frame.Length || frame[14 + ihl] != 8) return; // an echo request
        byte[] e = frame[..(14 + total)].ToArray();
        frame[6..12].CopyTo(e);
        _mac.CopyTo(e, 6);
        frame.Slice(26, 4).CopyTo(e.AsSpan(30)); // swapped addresses keep the IP header's checksum
        _ip.CopyTo(e, 26);
        Span<byte> icmp = e.AsSpan(14 + ihl);
        icmp[0] = 0; // echo reply
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        Interlocked.Increment(ref _echoes);
        _replies.Add(e);
    }

    public void Dispose()
    {
        _replies.CompleteAdding();
        _sender.Join();
        _replies.Dispose();
    }
}
