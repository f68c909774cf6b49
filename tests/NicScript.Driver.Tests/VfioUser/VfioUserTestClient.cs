using System.Buffers.Binary;
using System.Net.Sockets;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>What QEMU's <c>vfio-user-pci</c> does on the socket, written for tests: real messages, fds passed with
/// <c>SCM_RIGHTS</c>, and raw bytes for the hostile cases.</summary>
internal sealed class VfioUserTestClient : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5); // QEMU's own default wait

    private readonly Socket _socket;
    private readonly UnixMessageSocket _fdSocket;
    private ushort _nextId = 7; // not 0: a reply's id must be the request's, not a default

    private VfioUserTestClient(Socket socket)
    {
        _socket = socket;
        _socket.ReceiveTimeout = (int)ReplyTimeout.TotalMilliseconds;
        _fdSocket = new UnixMessageSocket(socket);
    }

    public static VfioUserTestClient Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return new VfioUserTestClient(s);
    }

    public sealed record Reply(VfioUserHeader Header, byte[] Body)
    {
        public bool IsError => (Header.Flags & VfioUserHeader.ErrorFlag) != 0;

        public uint Errno => Header.Error;
    }

    public void SendRaw(ReadOnlySpan<byte> bytes, params int[] fds)
    {
        if (!_fdSocket.Send(bytes, fds)) throw new IOException("the server closed the socket");
    }

    /// <summary>Ends the client's sending side: the server sees end-of-stream after what was sent.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    public byte[] Message(VfioUserCommand command, ReadOnlySpan<byte> body, uint flags = 0, ushort? id = null)
    {
        var m = new byte[VfioUserHeader.Size + body.Length];
        new VfioUserHeader(id ?? _nextId++, command, (uint)m.Length, flags, 0).Write(m);
        body.CopyTo(m.AsSpan(VfioUserHeader.Size));
        return m;
    }

    public Reply Request(VfioUserCommand command, ReadOnlySpan<byte> body, params int[] fds)
    {
        ushort id = _nextId;
        SendRaw(Message(command, body), fds);
        Reply r = ReadReply() ?? throw new IOException($"{command}: the server closed the connection");
        Assert.Equal((id, command, VfioUserHeader.TypeReply), (r.Header.MessageId, r.Header.Command, r.Header.Flags & VfioUserHeader.TypeMask));
        return r;
    }

    /// <summary>The next reply, or null when the server closed the connection.</summary>
    public Reply? ReadReply()
    {
        var header = new byte[VfioUserHeader.Size];
        if (!ReadExactly(header)) return null;
        Assert.Equal(WireError.None, VfioUserHeader.TryRead(header, out VfioUserHeader h));
        var body = new byte[h.MessageSize - VfioUserHeader.Size];
        Assert.True(ReadExactly(body), "reply body cut short");
        return new Reply(h, body);
    }

    /// <summary>Whether the server closed the connection (within the reply timeout) without sending anything more.</summary>
    public bool ClosedByServer() => ReadReply() is null;

    private bool ReadExactly(Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n;
            try
            {
                n = _socket.Receive(buffer[got..]);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                return false;
            }
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    /// <summary>What QEMU 10.1's client offers (<c>caps_json</c> in hw/vfio-user/proxy.c).</summary>
    public const string QemuCapabilities =
        """{"capabilities":{"migration":{"pgsize":4096,"max_bitmap_size":268435456},"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"write_multiple":true}}""";

    public Reply Version() => Request(VfioUserCommand.Version, VersionBody(QemuCapabilities));

    public static byte[] VersionBody(string json)
    {
        var b = new byte[4 + System.Text.Encoding.UTF8.GetByteCount(json) + 1];
        System.Text.Encoding.UTF8.GetBytes(json, b.AsSpan(4));
        return b;
    }

    public Reply DmaMap(ulong offset, ulong iova, ulong size, uint flags, params int[] fds)
    {
        var b = new byte[VfioUserDmaMap.Length];
        new VfioUserDmaMap(VfioUserDmaMap.Length, flags, offset, iova, size).Write(b);
        return Request(VfioUserCommand.DmaMap, b, fds);
    }

    public Reply DmaUnmap(ulong iova, ulong size, uint flags = 0)
    {
        var b = new byte[VfioUserDmaUnmap.Length];
        new VfioUserDmaUnmap(VfioUserDmaUnmap.Length, flags, iova, size).Write(b);
        return Request(VfioUserCommand.DmaUnmap, b);
    }

    public Reply RegionInfo(uint index)
    {
        var b = new byte[VfioUserRegionInfo.Length];
        new VfioUserRegionInfo(VfioUserRegionInfo.Length, 0, index, 0, 0, 0).Write(b);
        return Request(VfioUserCommand.DeviceGetRegionInfo, b);
    }

    public Reply IrqInfo(uint index)
    {
        var b = new byte[VfioUserIrqInfo.Length];
        new VfioUserIrqInfo(VfioUserIrqInfo.Length, 0, index, 0).Write(b);
        return Request(VfioUserCommand.DeviceGetIrqInfo, b);
    }

    public Reply SetIrqs(uint index, uint start, uint count, uint flags, params int[] fds)
    {
        var b = new byte[VfioUserIrqSet.Length];
        new VfioUserIrqSet(VfioUserIrqSet.Length, flags, index, start, count).Write(b);
        return Request(VfioUserCommand.DeviceSetIrqs, b, fds);
    }

    public Reply RegionRead(uint region, ulong offset, uint count)
    {
        var b = new byte[VfioUserRegionAccess.Length];
        new VfioUserRegionAccess(offset, region, count).Write(b);
        return Request(VfioUserCommand.RegionRead, b);
    }

    /// <summary>Reads a register (up to 8 bytes) and checks the reply is not an error.</summary>
    public ulong Read(uint region, ulong offset, uint count)
    {
        Reply r = RegionRead(region, offset, count);
        Assert.False(r.IsError, $"read {region}:0x{offset:x} errno {r.Errno}");
        ulong v = 0;
        for (int i = (int)count - 1; i >= 0; i--) v = (v << 8) | r.Body[VfioUserRegionAccess.Length + i];
        return v;
    }

    public byte[] WriteBody(uint region, ulong offset, uint count, ulong value)
    {
        var b = new byte[VfioUserRegionAccess.Length + count];
        new VfioUserRegionAccess(offset, region, count).Write(b);
        for (int i = 0; i < count; i++, value >>= 8) b[VfioUserRegionAccess.Length + i] = (byte)value;
        return b;
    }

    /// <summary>Writes a register and checks the reply is not an error.</summary>
    public void Write(uint region, ulong offset, uint count, ulong value)
    {
        Reply r = Request(VfioUserCommand.RegionWrite, WriteBody(region, offset, count, value));
        Assert.False(r.IsError, $"write {region}:0x{offset:x} errno {r.Errno}");
        Assert.Equal(count, BinaryPrimitives.ReadUInt32LittleEndian(r.Body.AsSpan(12)));
    }

    public void Dispose() => _fdSocket.Dispose();
}
