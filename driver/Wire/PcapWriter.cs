using System.Buffers.Binary;
using System.Diagnostics;

namespace NicScript.Driver.Wire;

/// <summary>Writes frames to a classic pcap file (LINKTYPE_ETHERNET, microsecond timestamps) that tshark and Wireshark read.</summary>
/// <remarks>
/// Thread-safe. Design: a capture is read while the run goes on (<c>tshark -r</c>, <c>tail -c +1 -f | tshark -i -</c>), as
/// <c>tcpdump -U</c> writes, so each record (16-byte header and frame) leaves in one <c>write</c> from a reused scratch
/// array, unbuffered: a reader sees whole records, every frame as soon as it was on the wire, and nothing waits for exit.
/// It costs a system call per frame, on the capture path only.
/// </remarks>
public sealed class PcapWriter : ICaptureSink, IDisposable
{
    public const uint Magic = 0xA1B2C3D4;
    public const int SnapLength = 65535;

    private readonly Stream _stream;
    private readonly object _sync = new();
    private readonly byte[] _record = new byte[16 + SnapLength];
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

    /// <summary>A capture file; others may read it while it is written (bufferSize 0: every write goes to the file at once).</summary>
    public static PcapWriter Create(string path) => new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0));

    public long Frames { get; private set; }

    public void Write(ReadOnlySpan<byte> frame)
    {
        long micros = _startMicros + (Stopwatch.GetTimestamp() - _startTicks) * 1_000_000 / Stopwatch.Frequency;
        int captured = Math.Min(frame.Length, SnapLength);
        lock (_sync)
        {
            if (_disposed) return;
            BinaryPrimitives.WriteUInt32LittleEndian(_record, (uint)(micros / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(4), (uint)(micros % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(8), (uint)captured);
            BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(12), (uint)frame.Length);
            frame[..captured].CopyTo(_record.AsSpan(16));
            _stream.Write(_record, 0, 16 + captured);
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
