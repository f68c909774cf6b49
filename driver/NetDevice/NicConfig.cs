using System.Collections.Immutable;

namespace NicScript.Driver.NetDevice;

/// <summary>The emulated NIC's own parameters (the banjo <c>DeviceInfo</c> a device driver reports), checked by <see cref="Validate"/>.</summary>
public sealed record NicConfig
{
    public int RxDepth { get; init; } = 16;
    public int TxDepth { get; init; } = 16;
    public int RxThreshold { get; init; } = 8;
    public int MaxBufferParts { get; init; } = NetConstants.MAX_BUFFER_PARTS;
    public uint BufferAlignment { get; init; } = 64;
    public uint MaxBufferLength { get; init; } = 2048;
    public uint MinRxBufferLength { get; init; } = 64;
    public uint MinTxBufferLength { get; init; } = 60;
    public ushort MinTxBufferHead { get; init; }
    public ushort MinTxBufferTail { get; init; }
    public ImmutableArray<RxAcceleration> RxAccel { get; init; } = [RxAcceleration.VALIDATED_ETHERNET_FCS];
    public ImmutableArray<TxAcceleration> TxAccel { get; init; } = [TxAcceleration.COMPUTE_ETHERNET_FCS];
    public ImmutableArray<PortConfig> Ports { get; init; } = [];

    /// <summary>The first broken rule as <c>(field, rule)</c>, or null (reference ND-02).</summary>
    public (string Field, string Rule)? Validate()
    {
        if (RxDepth is < 1 or > NetConstants.MaxFifoDepth) return ("rx_depth", $"must be 1..{NetConstants.MaxFifoDepth}, got {RxDepth}");
        if (TxDepth is < 1 or > NetConstants.MaxFifoDepth) return ("tx_depth", $"must be 1..{NetConstants.MaxFifoDepth}, got {TxDepth}");
        if (RxThreshold < 0 || RxThreshold > RxDepth) return ("rx_threshold", $"must be 0..rx_depth ({RxDepth}), got {RxThreshold}");
        if (MaxBufferParts is < 1 or > NetConstants.MAX_BUFFER_PARTS) return ("max_buffer_parts", $"must be 1..{NetConstants.MAX_BUFFER_PARTS}, got {MaxBufferParts}");
        if (BufferAlignment == 0) return ("buffer_alignment", "must be at least 1");
        if (RxAccel.Length > NetConstants.MAX_ACCEL_FLAGS) return ("rx_accel", $"at most {NetConstants.MAX_ACCEL_FLAGS} entries, got {RxAccel.Length}");
        if (TxAccel.Length > NetConstants.MAX_ACCEL_FLAGS) return ("tx_accel", $"at most {NetConstants.MAX_ACCEL_FLAGS} entries, got {TxAccel.Length}");
        if (MaxBufferLength == 0) return ("max_buffer_length", "must be at least 1");
        var seen = new HashSet<byte>();
        foreach (PortConfig p in Ports)
        {
            if (p.Id >= NetConstants.MAX_PORTS) return ("ports.id", $"must be below {NetConstants.MAX_PORTS}, got {p.Id}");
            if (!seen.Add(p.Id)) return ("ports.id", $"port {p.Id} is declared twice");
            if (p.Validate() is { } bad) return bad;
        }
        return null;
    }
}

/// <summary>One port of an emulated NIC: class, frame types, MAC and filter modes, status, and whether it is the function's own wire.</summary>
public sealed record PortConfig
{
    public byte Id { get; init; }
    public DeviceClass Class { get; init; } = DeviceClass.ETHERNET;
    public ImmutableArray<FrameType> RxTypes { get; init; } = [FrameType.ETHERNET];
    public ImmutableArray<FrameTypeSupport> TxTypes { get; init; } = [new(FrameType.ETHERNET, NetConstants.FRAME_FEATURES_RAW, (uint)TxFlags.TX_ACCEL_0)];
    /// <summary>Null: the port has no MAC (GetMac closes with ZX_ERR_NOT_SUPPORTED).</summary>
    public byte[]? Mac { get; init; }
    public ImmutableArray<MacFilterMode> MacModes { get; init; } = [MacFilterMode.MULTICAST_FILTER, MacFilterMode.MULTICAST_PROMISCUOUS, MacFilterMode.PROMISCUOUS];
    public int MulticastFilterCount { get; init; } = 4;
    public bool Online { get; init; } = true;
    public uint Mtu { get; init; } = 1514;
    /// <summary>True: frames sent on this port leave on the function's wire and frames from the wire arrive here.</summary>
    public bool Uplink { get; init; }

    internal (string Field, string Rule)? Validate()
    {
        if (RxTypes.Length > NetConstants.MAX_FRAME_TYPES) return ("ports.rx_types", $"at most {NetConstants.MAX_FRAME_TYPES} entries");
        if (TxTypes.Length > NetConstants.MAX_FRAME_TYPES) return ("ports.tx_types", $"at most {NetConstants.MAX_FRAME_TYPES} entries");
        if (Mac is { Length: not 6 }) return ("ports.mac", "must be 6 bytes");
        if (Mac is not null && MacModes.IsEmpty) return ("ports.mac_modes", "a port with a MAC needs at least one filter mode");
        if (MulticastFilterCount is < 0 or > NetConstants.MAX_MAC_FILTER) return ("ports.multicast_filter_count", $"must be 0..{NetConstants.MAX_MAC_FILTER}");
        return null;
    }
}
