using System.Buffers.Binary;
using System.Diagnostics;

namespace NicScript.Driver.Wire;

/// <summary>Writes frames to a classic pcap file (LINKTYPE_ETHERNET, microsecond timestamps) that tshark and Wireshark read.</summary>
/// <remarks>Thread-safe; buffered; one 16-byte record header per frame written from a reused scratch array.</remarks>
public sealed class PcapWriter : ICaptureSink, IDisposable
{
    public const uint Magic = 0xA1B2C3D4;
    public const int SnapLength = 65535;

    private readonly Stream _stream;
    private readonly object _sync = new();
    private readonly byte[] _header = new byte[16];
    private readonly long _startTicks = Stopwatch.GetTimestamp();
    private readonly long _startMicros = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private bool _disposed;

    public PcapWriter(Stream stream)
    {
        _stream = stream;
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);  // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);  // LINKTYPE_ETHERNET
        _stream.Write(h);
    }

    public static PcapWriter Create(string path) => new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));

    public long Frames { get; private set; }

    public void Write(ReadOnlySpan<byte> frame)
    {
        long micros = _startMicros + (Stopwatch.GetTimestamp() - _startTicks) * 1_000_000 / Stopwatch.Frequency;
        int captured = Math.Min(frame.Length, SnapLength);
        lock (_sync)
        {
            if (_disposed) return;
            BinaryPrimitives.WriteUInt32LittleEndian(_header, (uint)(micros / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(4), (uint)(micros % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(8), (uint)captured);
            BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(12), (uint)frame.Length);
            _stream.Write(_header);
            _stream.Write(frame[..captured]);
            Frames++;
        }
    }

    public void Flush()
    {
        lock (_sync) if (!_disposed) _stream.Flush();
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            _stream.Flush();
            _stream.Dispose();
        }
    }
}
