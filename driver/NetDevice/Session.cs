using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>A client's data path on a device: a descriptors region, a data region, an rx FIFO and a tx FIFO (reference §3).</summary>
/// <remarks>
/// Paused while attached to no port, running while attached to at least one. All state is guarded by the device's
/// lock. The device reaches the two regions only while the client that opened the session (<see cref="Client"/>, their
/// owner then) still owns them: one transferred away or freed is empty to the device from that moment (descriptors read
/// as zeros and writes vanish, received frames are dropped, a queued tx frame completes with TX_RET_ERROR unsent), as an
/// IOMMU domain of that one client would have it; the next FIFO entry the device serves closes the session with
/// ZX_ERR_IO_INVALID, as a descriptor pointing outside the data region does.
/// </remarks>
public sealed class Session : NetProxy
{
    internal const byte Free = 0, RxReady = 1, RxAtNic = 2, TxHeld = 3;

    internal Session(DeviceInterface device, int number, string name, SessionFlags flags, DmaRegion descriptors, DmaRegion data, int count, int lengthWords, int depth)
    {
        Device = device;
        Number = number;
        Name = name;
        Flags = flags;
        Descriptors = descriptors;
        Data = data;
        Client = data.Owner;
        _scratch = new byte[NetConstants.DescriptorBytes];
        DescriptorCount = count;
        Stride = lengthWords * 8;
        Held = new byte[count];
        PostStart = new long[count];
        PostHead = new ushort[count];
        PostRoom = new uint[count];
        Ready = new IndexRing(count);
        Fifos = new Fifos(new Fifo(this, isTx: false, depth), new Fifo(this, isTx: true, depth));
    }

    internal DeviceInterface Device { get; }

    /// <summary>Unique within its device; the high half of the buffer ids the NIC sees.</summary>
    internal int Number { get; }

    [ScriptApi] public string Name { get; }

    [ScriptApi] public SessionFlags Flags { get; }

    internal DmaRegion Descriptors { get; }
    internal DmaRegion Data { get; }

    /// <summary>Who owned the regions when the session opened: the device serves them only while it still does.</summary>
    internal DmaOwner? Client { get; }

    /// <summary>Both regions still belong to <see cref="Client"/>.</summary>
    internal bool Reachable => Client is not null && ReferenceEquals(Data.Owner, Client) && ReferenceEquals(Descriptors.Owner, Client);

    /// <summary>The data region as the device may reach it now: empty once it left the client.</summary>
    internal Span<byte> DataSpan => Data.SpanIfOwnedBy(Client);

    private readonly byte[] _scratch;
    internal int DescriptorCount { get; }
    internal int Stride { get; }
    internal Fifos Fifos { get; }

    /// <summary>Per descriptor: free, in the ready pool, at the NIC as rx space, or in flight as tx.</summary>
    internal byte[] Held { get; }

    /// <summary>Per rx descriptor taken: where the device may write (offset + head), the posted head, the room (data + tail).</summary>
    internal long[] PostStart { get; }
    internal ushort[] PostHead { get; }
    internal uint[] PostRoom { get; }

    /// <summary>Rx buffers taken from the FIFO and checked, not at the NIC.</summary>
    internal IndexRing Ready { get; }

    internal int RxAtNicCount { get; set; }
    internal int TxInFlight { get; set; }

    internal readonly bool[] Attached = new bool[NetConstants.MAX_PORTS];
    internal readonly FrameType[][] RxFrames = new FrameType[NetConstants.MAX_PORTS][];
    internal int AttachedCount { get; set; }

    internal bool Closing { get; set; }

    internal bool IsPrimaryCandidate => (Flags & SessionFlags.PRIMARY) != 0 && !Closing;
    internal bool Running => AttachedCount > 0 && !Closing;
    internal int RxHeld => Ready.Count + RxAtNicCount;
    internal bool HoldsNothing => RxAtNicCount == 0 && TxInFlight == 0;

    /// <summary>Why the session closed (NicScript's addition): ZX_OK (Close), ZX_ERR_PEER_CLOSED (a FIFO closed), ZX_ERR_IO_INVALID, ZX_ERR_UNAVAILABLE.</summary>
    [ScriptApi] public string? CloseReason => CloseReasonStatus?.ToString();

    internal ZxStatus? CloseReasonStatus { get; set; }

    /// <summary>Starts receiving frames of <paramref name="rxFrames"/> from <paramref name="port"/> and lets it send there.</summary>
    [ScriptApi] public void Attach(byte port, FrameType[] rxFrames) => Device.Attach(this, port, rxFrames);

    [ScriptApi] public void Detach(byte port) => Device.Detach(this, port);

    /// <summary>Closes the session; the epitaph ZX_ERR_CANCELED follows once the device has given back every buffer.</summary>
    [ScriptApi]
    public void Close()
    {
        lock (Device.Sync) Device.CloseSession(this, ZxStatus.ZX_OK);
    }

    /// <summary>Descriptor <paramref name="index"/>'s 40 bytes (the caller checked the index).</summary>
    internal Span<byte> Descriptor(int index)
    {
        Span<byte> all = Descriptors.SpanIfOwnedBy(Client);
        if (!all.IsEmpty) return all.Slice(index * Stride, NetConstants.DescriptorBytes);
        _scratch.AsSpan().Clear(); // the region left the client: a zero descriptor (invalid), and what is written vanishes
        return _scratch;
    }

    internal uint BufferId(ushort index) => (uint)Number << 16 | index;

    public override string ToString() => $"session \"{Name}\" ({Flags})";
}
