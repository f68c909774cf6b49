using System.Diagnostics;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using NicScript.Driver.Devices;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>One vfio-user client connected to one exported function: reads its commands in order, answers each, and when it
/// leaves (or is put out) undoes everything it set up.</summary>
/// <remarks>
/// Design: messages are handled strictly in order on the session's thread (the protocol's posted writes rely on it: a
/// read never passes an earlier write). Two kinds of refusal, kept apart:
/// <list type="bullet">
/// <item>a message that cannot be trusted as a message — short or oversized header, a size the stream does not hold, a
/// reply or error where a command is due, reserved bits, an unknown command, a body whose length or argsz does not match
/// its command, more fds than announced, anything before <c>VERSION</c> — closes the client with the reason, reported to
/// the machine's device events: the stream may be out of step, so nothing after it is believed;</item>
/// <item>a well-formed request the device cannot do — a region or interrupt index it does not have, a range past a
/// region's end, a bad or missing fd, a map that overlaps or runs past its file, wrong interrupt counts — gets an error
/// reply with an errno (<c>EINVAL</c>, <c>EEXIST</c>, …), as the kernel's vfio would answer the same ioctl, and the session
/// goes on. These are reported too, at most <see cref="ReportsPerSecond"/> a second.</item>
/// </list>
/// Nothing a client sends throws out of <see cref="Serve"/>. On the way out the interrupts are released, the device is
/// reset (it forgets the queues the guest gave it) and then the guest's memory is unmapped.
/// </remarks>
internal sealed class VfioUserSession : IDisposable
{
    /// <summary>The largest region access (the <c>max_data_xfer_size</c> announced).</summary>
    public const int MaxDataTransfer = 1 << 20;

    /// <summary>The largest message accepted: a region write of <see cref="MaxDataTransfer"/> bytes.</summary>
    public const int MaxMessage = VfioUserHeader.Size + VfioUserRegionAccess.Length + MaxDataTransfer;

    public const int ReportsPerSecond = 16;

    /// <summary>Regions of a vfio PCI device: BAR 0–5, expansion ROM 6, configuration space 7, VGA 8.</summary>
    public const uint RegionRom = 6, RegionConfig = 7, RegionCount = 9;

    private const int Einval = 22, Enosys = 38, Enotsup = 95;

    /// <summary>What the server announces: its limits, no migration, no multiple writes.</summary>
    private static readonly string Capabilities =
        $$$"""{"capabilities":{"max_msg_fds":{{{UnixMessageSocket.MaxFds}}},"max_data_xfer_size":{{{MaxDataTransfer}}},"pgsizes":{{{GuestMemory.PageSize}}},"max_dma_maps":{{{GuestMemory.MaxMappings}}}}}""";

    private readonly IDeviceModel _device;
    private readonly GuestMemory _guest;
    private readonly UnixMessageSocket _socket;
    private readonly IDeviceEvents _events;
    private readonly IVfioUserTrace? _trace;
    private readonly IrqForwarder _irqs;
    private readonly string _function;
    private readonly byte[] _in = new byte[MaxMessage];
    private readonly byte[] _out = new byte[MaxMessage];
    private readonly List<SafeFileHandle> _fds = new();
    private bool _versioned;
    private long _window;
    private int _reported;

    public VfioUserSession(IDeviceModel device, GuestMemory guest, UnixMessageSocket socket, IDeviceEvents events, IVfioUserTrace? trace)
    {
        _device = device;
        _guest = guest;
        _socket = socket;
        _events = events;
        _trace = trace;
        _function = device.Function.Address.ToString();
        _irqs = new IrqForwarder(device, (index, vector) => Trace(VfioUserTraceKind.Interrupt, index, (ulong)vector, 1, 0));
    }

    /// <summary>Serves the client until it leaves; null when it closed the connection between messages, else why it was put out.</summary>
    public string? Serve()
    {
        try
        {
            while (true)
            {
                string? close = ServeOne(out bool done);
                if (close is not null || done) return close;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"internal error while serving the client: {e.GetType().Name}: {e.Message}"; // our bug, not the client's: still only this client goes
        }
        finally
        {
            CloseFds();
        }
    }

    private string? ServeOne(out bool done)
    {
        done = false;
        CloseFds();
        switch (_socket.Receive(_in.AsSpan(0, VfioUserHeader.Size), _fds))
        {
            case SocketReceive.Closed: done = true; return null;
            case SocketReceive.Truncated: return "truncated header: the stream ended inside the 16-byte header";
            case SocketReceive.TooManyFds: return $"more than {UnixMessageSocket.MaxFds} fds with one message";
            case SocketReceive.Failed: return "the socket failed";
        }
        WireError e = VfioUserHeader.TryRead(_in, out VfioUserHeader h);
        if (e != WireError.None)
            return $"bad header ({e}): command {BitConverter.ToUInt16(_in, 2)}, size {BitConverter.ToUInt32(_in, 4)}, flags 0x{BitConverter.ToUInt32(_in, 8):x}";
        if (!h.IsCommand) return $"a reply (id {h.MessageId}) where a command was due: the server sends no commands";
        if ((h.Flags & VfioUserHeader.ErrorFlag) != 0 || h.Error != 0) return $"{h.Command}: error flag or error field set in a command";
        if (h.MessageSize > MaxMessage) return $"{h.Command}: message size {h.MessageSize} is over the {MaxMessage} allowed";
        Span<byte> body = _in.AsSpan(VfioUserHeader.Size, (int)h.MessageSize - VfioUserHeader.Size);
        switch (_socket.Receive(body, _fds))
        {
            case SocketReceive.Closed or SocketReceive.Truncated:
                return $"{h.Command}: the header says {h.MessageSize} bytes, the stream ended before";
            case SocketReceive.TooManyFds: return $"more than {UnixMessageSocket.MaxFds} fds with one message";
            case SocketReceive.Failed: return "the socket failed";
        }
        if (!_versioned && h.Command != VfioUserCommand.Version) return $"{h.Command} before VERSION";
        Outcome o = Dispatch(h.Command, body);
        if (o.Close is not null) return $"{h.Command}: {o.Close}";
        if (o.Errno != 0) Refused(h.Command, o.Errno, o.Reason);
        if (!h.WantsReply) return null;
        int length = VfioUserHeader.Size + (o.Errno == 0 ? o.Length : 0);
        uint flags = VfioUserHeader.TypeReply | (o.Errno == 0 ? 0 : VfioUserHeader.ErrorFlag);
        new VfioUserHeader(h.MessageId, h.Command, (uint)length, flags, (uint)o.Errno).Write(_out);
        if (!_socket.Send(_out.AsSpan(0, length))) done = true; // the client went away: nothing left to tell it
        return null;
    }

    private Outcome Dispatch(VfioUserCommand command, ReadOnlySpan<byte> body) => command switch
    {
        VfioUserCommand.Version => Version(body),
        VfioUserCommand.DmaMap => DmaMap(body),
        VfioUserCommand.DmaUnmap => DmaUnmap(body),
        VfioUserCommand.DeviceGetInfo => DeviceInfo(body),
        VfioUserCommand.DeviceGetRegionInfo => RegionInfo(body),
        VfioUserCommand.DeviceGetIrqInfo => IrqInfo(body),
        VfioUserCommand.DeviceSetIrqs => SetIrqs(body),
        VfioUserCommand.RegionRead => RegionRead(body),
        VfioUserCommand.RegionWrite => RegionWrite(body),
        VfioUserCommand.DeviceReset => Reset(body),
        _ => Outcome.Refuse(Enosys, $"{command} is not offered"), // announced nowhere (no mmap fds, no dirty pages, no multiple writes); DMA read/write go to the client, not from it
    };

    private Outcome Version(ReadOnlySpan<byte> body)
    {
        if (_versioned) return Outcome.Closing("a second VERSION");
        if (VfioUserVersion.TryRead(body, out VfioUserVersion v) is var e && e != WireError.None) return Outcome.Closing($"capabilities: {e}");
        if (v.Capabilities.Length > 0 && !IsJsonObject(v.Capabilities)) return Outcome.Closing("capabilities are not a JSON object");
        if (v.Major != 0) return Outcome.Refuse(Enotsup, $"protocol {v.Major}.{v.Minor}: this server speaks 0.0");
        _versioned = true;
        // QEMU reads the reply into its request's buffer and refuses a longer one; its request (the capabilities it offers) is
        // longer than ours, but a terser client gets "{}": the protocol's defaults, all within what the server takes.
        var reply = new VfioUserVersion(0, 0, Capabilities);
        if (reply.Length > body.Length) reply = new VfioUserVersion(0, 0, "{}");
        reply.Write(Reply);
        Trace(VfioUserTraceKind.Connect, 0, 0, 0, 0, $"client {v.Major}.{v.Minor} {v.Capabilities}");
        return Outcome.Ok(reply.Length);
    }

    private Outcome DmaMap(ReadOnlySpan<byte> body)
    {
        if (VfioUserDmaMap.TryRead(body, out VfioUserDmaMap m) is var e && e != WireError.None) return Outcome.Closing($"dma_map: {e}");
        if (_fds.Count > 1) return Outcome.Refuse(Einval, $"{_fds.Count} fds with one mapping");
        if (!m.Readable && !m.Writable) return Outcome.Refuse(Einval, "a mapping neither readable nor writable");
        int errno = _guest.TryMap(_fds.Count == 1 ? _fds[0] : null, m.Offset, m.Iova, m.Size, m.Writable, out string reason);
        if (errno != 0) return Outcome.Refuse(errno, reason);
        Trace(VfioUserTraceKind.DmaMap, m.Flags, m.Iova, m.Size, m.Offset, _fds.Count == 0 ? "no fd: unreachable" : null);
        return Outcome.Ok(0); // the fd is closed with the message: the mapping holds the file
    }

    private Outcome DmaUnmap(ReadOnlySpan<byte> body)
    {
        if (VfioUserDmaUnmap.TryRead(body, out VfioUserDmaUnmap u) is var e && e != WireError.None) return Outcome.Closing($"dma_unmap: {e}");
        if (_fds.Count != 0) return Outcome.Refuse(Einval, $"{_fds.Count} fds with an unmap");
        if ((u.Flags & VfioUserDmaUnmap.FlagGetDirtyBitmap) != 0) return Outcome.Refuse(Enotsup, "no dirty-page tracking");
        if ((u.Flags & VfioUserDmaUnmap.FlagAll) != 0)
        {
            if (u.Iova != 0 || u.Size != 0) return Outcome.Refuse(Einval, "unmap-all with an address or size");
            _guest.UnmapAll();
        }
        else if (_guest.TryUnmap(u.Iova, u.Size, out string reason) is var errno && errno != 0) return Outcome.Refuse(errno, reason);
        Trace(VfioUserTraceKind.DmaUnmap, u.Flags, u.Iova, u.Size, 0);
        u.Write(Reply);
        return Outcome.Ok(VfioUserDmaUnmap.Length);
    }

    private Outcome DeviceInfo(ReadOnlySpan<byte> body)
    {
        if (VfioUserDeviceInfo.TryRead(body, out _) is var e && e != WireError.None) return Outcome.Closing($"device_info: {e}");
        if (_fds.Count != 0) return Outcome.Refuse(Einval, "fds with a request that takes none");
        new VfioUserDeviceInfo(VfioUserDeviceInfo.Length, VfioUserDeviceInfo.FlagReset | VfioUserDeviceInfo.FlagPci, RegionCount, IrqForwarder.IndexCount).Write(Reply);
        return Outcome.Ok(VfioUserDeviceInfo.Length);
    }

    private Outcome RegionInfo(ReadOnlySpan<byte> body)
    {
        if (VfioUserRegionInfo.TryRead(body, out VfioUserRegionInfo r) is var e && e != WireError.None) return Outcome.Closing($"region_info: {e}");
        if (_fds.Count != 0) return Outcome.Refuse(Einval, "fds with a request that takes none");
        if (r.Index >= RegionCount) return Outcome.Refuse(Einval, $"no region {r.Index}");
        ulong size = RegionSize(r.Index);
        uint flags = size == 0 ? 0 : VfioUserRegionInfo.FlagRead | VfioUserRegionInfo.FlagWrite;
        new VfioUserRegionInfo(VfioUserRegionInfo.Length, flags, r.Index, 0, size, 0).Write(Reply);
        return Outcome.Ok(VfioUserRegionInfo.Length);
    }

    private Outcome IrqInfo(ReadOnlySpan<byte> body)
    {
        if (VfioUserIrqInfo.TryRead(body, out VfioUserIrqInfo i) is var e && e != WireError.None) return Outcome.Closing($"irq_info: {e}");
        if (_fds.Count != 0) return Outcome.Refuse(Einval, "fds with a request that takes none");
        if (i.Index >= IrqForwarder.IndexCount) return Outcome.Refuse(Einval, $"no interrupt index {i.Index}");
        new VfioUserIrqInfo(VfioUserIrqInfo.Length, IrqForwarder.Flags(i.Index), i.Index, _irqs.Count(i.Index)).Write(Reply);
        return Outcome.Ok(VfioUserIrqInfo.Length);
    }

    private Outcome SetIrqs(ReadOnlySpan<byte> body)
    {
        if (VfioUserIrqSet.TryRead(body, out VfioUserIrqSet s) is var e && e != WireError.None) return Outcome.Closing($"set_irqs: {e}");
        int errno = _irqs.Set(s, _fds, body[VfioUserIrqSet.Length..], out string reason);
        if (errno != 0) return Outcome.Refuse(errno, reason);
        Trace(VfioUserTraceKind.SetIrqs, s.Index, s.Start, s.Count, s.Flags);
        return Outcome.Ok(0);
    }

    private Outcome RegionRead(ReadOnlySpan<byte> body)
    {
        if (VfioUserRegionAccess.TryRead(body, withData: false, out VfioUserRegionAccess a) is var e && e != WireError.None) return Outcome.Closing($"region_read: {e}");
        if (CheckAccess(a) is { } refusal) return refusal;
        Span<byte> data = Reply.Slice(VfioUserRegionAccess.Length, (int)a.Count);
        if (a.Region == RegionConfig) ReadConfig((int)a.Offset, data);
        else ReadBar((int)a.Region, (int)a.Offset, data);
        a.Write(Reply);
        Trace(a.Region == RegionConfig ? VfioUserTraceKind.ConfigRead : VfioUserTraceKind.BarRead, a.Region, a.Offset, a.Count, Value(data));
        return Outcome.Ok(VfioUserRegionAccess.Length + (int)a.Count);
    }

    private Outcome RegionWrite(ReadOnlySpan<byte> body)
    {
        if (VfioUserRegionAccess.TryRead(body, withData: true, out VfioUserRegionAccess a) is var e && e != WireError.None) return Outcome.Closing($"region_write: {e}");
        if (CheckAccess(a) is { } refusal) return refusal;
        ReadOnlySpan<byte> data = body[VfioUserRegionAccess.Length..];
        VfioUserTraceKind kind = a.Region == RegionConfig ? VfioUserTraceKind.ConfigWrite
            : _device.IsDoorbell((int)a.Region, (int)a.Offset) ? VfioUserTraceKind.Doorbell : VfioUserTraceKind.BarWrite;
        Trace(kind, a.Region, a.Offset, a.Count, Value(data));
        if (a.Region == RegionConfig) WriteConfig((int)a.Offset, data);
        else WriteBar((int)a.Region, (int)a.Offset, data);
        a.Write(Reply);
        return Outcome.Ok(VfioUserRegionAccess.Length);
    }

    private Outcome Reset(ReadOnlySpan<byte> body)
    {
        if (body.Length != 0) return Outcome.Closing($"reset with a {body.Length}-byte body");
        if (_fds.Count != 0) return Outcome.Refuse(Einval, "fds with a request that takes none");
        _device.Reset();
        Trace(VfioUserTraceKind.Reset, 0, 0, 0, 0);
        return Outcome.Ok(0);
    }

    /// <summary>Why a region access cannot be done, or null: a region the function has, a range inside it, a width a
    /// register access has (1, 2, 4 or 8 bytes for a BAR; configuration space takes any run of bytes).</summary>
    private Outcome? CheckAccess(VfioUserRegionAccess a)
    {
        if (_fds.Count != 0) return Outcome.Refuse(Einval, "fds with a request that takes none");
        if (a.Region >= RegionCount || RegionSize(a.Region) is var size && size == 0) return Outcome.Refuse(Einval, $"no region {a.Region}");
        if (a.Count == 0 || a.Count > MaxDataTransfer) return Outcome.Refuse(Einval, $"{a.Count} bytes: 1 to {MaxDataTransfer} may be moved at once");
        if (a.Offset >= size || a.Count > size - a.Offset)
            return Outcome.Refuse(Einval, $"0x{a.Offset:x}+{a.Count} runs past the end of region {a.Region} (0x{size:x} bytes)");
        if (a.Region != RegionConfig && a.Count is not (1 or 2 or 4 or 8)) return Outcome.Refuse(Einval, $"a {a.Count}-byte register access");
        return null;
    }

    private ulong RegionSize(uint region) => region switch
    {
        < 6 => _device.Function.Bar((int)region)?.Size ?? 0,
        RegionConfig => Pci.ConfigSpace.Size,
        _ => 0, // no expansion ROM, no VGA
    };

    private void ReadConfig(int offset, Span<byte> data)
    {
        for (int i = 0; i < data.Length; i++) data[i] = (byte)_device.Function.Config.Read(offset + i, 1);
    }

    /// <summary>A 1-, 2- or 4-byte aligned write is one config write (what the function's write handlers expect); anything
    /// else goes byte by byte.</summary>
    private void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        if (data.Length is 1 or 2 or 4 && offset % data.Length == 0) _device.Function.Config.Write(offset, data.Length, (uint)Value(data));
        else for (int i = 0; i < data.Length; i++) _device.Function.Config.Write(offset + i, 1, data[i]);
    }

    /// <summary>A BAR access goes straight to the device's registers: the client only sends it while the guest's BAR
    /// decodes (QEMU keeps the guest's view of the command register and BAR addresses).</summary>
    private void ReadBar(int bar, int offset, Span<byte> data)
    {
        ulong v = _device.Function.Removed ? ulong.MaxValue : _device.Function.Bar(bar)!.Registers.Read(offset, data.Length);
        for (int i = 0; i < data.Length; i++, v >>= 8) data[i] = (byte)v;
    }

    private void WriteBar(int bar, int offset, ReadOnlySpan<byte> data)
    {
        if (!_device.Function.Removed) _device.Function.Bar(bar)!.Registers.Write(offset, data.Length, Value(data));
    }

    private static ulong Value(ReadOnlySpan<byte> data)
    {
        ulong v = 0;
        for (int i = Math.Min(data.Length, 8) - 1; i >= 0; i--) v = (v << 8) | data[i];
        return v;
    }

    private static bool IsJsonObject(string json)
    {
        try
        {
            using JsonDocument d = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            return d.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private Span<byte> Reply => _out.AsSpan(VfioUserHeader.Size);

    private void Refused(VfioUserCommand command, int errno, string reason)
    {
        Trace(VfioUserTraceKind.Refused, (uint)command, 0, 0, (ulong)errno, reason);
        long second = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
        if (second != _window)
        {
            _window = second;
            _reported = 0;
        }
        if (_reported++ < ReportsPerSecond) _events.Fault(new DeviceFault(_function, "vfio-user-refused", $"{command}: errno {errno}: {reason}"));
    }

    private void Trace(VfioUserTraceKind kind, uint index, ulong offset, ulong size, ulong value, string? detail = null) =>
        _trace?.Record(new VfioUserTraceEvent(_function, kind, index, offset, size, value, detail));

    private void CloseFds()
    {
        foreach (SafeFileHandle fd in _fds) fd.Dispose();
        _fds.Clear();
    }

    /// <summary>The client is gone: its interrupts are released, the device forgets what the guest set up, then the guest's
    /// memory is unmapped (in that order: a reset device no longer reaches it).</summary>
    public void Dispose()
    {
        _irqs.Dispose();
        _device.Reset();
        _guest.ReleaseAll();
        CloseFds();
    }

    /// <summary>What handling one command came to: a reply body of <see cref="Length"/> bytes, an errno, or closing the client.</summary>
    private readonly record struct Outcome(int Errno, int Length, string Reason, string? Close)
    {
        public static Outcome Ok(int length) => new(0, length, "", null);

        public static Outcome Refuse(int errno, string reason) => new(errno, 0, reason, null);

        public static Outcome Closing(string reason) => new(0, 0, "", reason);
    }
}
