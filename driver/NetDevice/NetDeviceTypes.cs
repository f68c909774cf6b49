#pragma warning disable CA1707, CA1008, CA1028 // FIDL spellings and wire widths are the contract (reference/netdevice.md §2)
namespace NicScript.Driver.NetDevice;

/// <summary>The constants of <c>fuchsia.hardware.network</c> and of the device side NicScript plays (reference §2.1).</summary>
public static class NetConstants
{
    public const int MAX_ACCEL_FLAGS = 16;
    public const int MAX_DESCRIPTOR_CHAIN = 4;
    public const int MAX_FRAME_TYPES = 4;
    public const int MAX_PORTS = 32;
    public const int MAX_SESSION_NAME = 64;
    public const int MAX_STATUS_BUFFER = 50;
    public const uint FRAME_FEATURES_RAW = 1;
    public const byte DescriptorVersion = 1;
    /// <summary>Words (of 8 bytes) in a version-1 descriptor: 40 bytes.</summary>
    public const int MinDescriptorLength = 5;
    public const int DescriptorBytes = 40;
    public const int MAX_BUFFER_PARTS = 4;
    /// <summary>Data regions (sessions) one device registers at once (banjo MAX_VMOS).</summary>
    public const int MAX_VMOS = 32;
    public const int MAX_MAC_FILTER = 64;
    /// <summary>The FIFO depth ceiling: a page of 16-bit entries.</summary>
    public const int MaxFifoDepth = 2048;
    /// <summary>A PortWatcher closes when more events than this wait unread.</summary>
    public const int MaxPortEvents = 2 * MAX_PORTS;
    public const ushort NoNext = 0xFFFF;
}

public enum FrameType : byte { ETHERNET = 1, IPV4 = 2, IPV6 = 3 }

public enum InfoType : uint { NO_INFO = 0 }

/// <summary><c>DeviceClass</c> = <c>PortClass</c>.</summary>
public enum DeviceClass : ushort { VIRTUAL = 0, ETHERNET = 1, WLAN = 2, PPP = 3, BRIDGE = 4, WLAN_AP = 5 }

/// <summary>From most to least restrictive.</summary>
public enum MacFilterMode : uint { MULTICAST_FILTER = 0, MULTICAST_PROMISCUOUS = 1, PROMISCUOUS = 2 }

public enum RxAcceleration : byte { VALIDATED_ETHERNET_FCS = 0, VALIDATED_IPV4_CHECKSUM = 1, VALIDATED_TCP_CHECKSUM = 2, VALIDATED_UDP_CHECKSUM = 3 }

public enum TxAcceleration : byte { COMPUTE_ETHERNET_FCS = 0, COMPUTE_IPV4_CHECKSUM = 1, COMPUTE_TCP_CHECKSUM = 2, COMPUTE_UDP_CHECKSUM = 3 }

[Flags]
public enum SessionFlags : ushort { PRIMARY = 0x0001, LISTEN_TX = 0x0002, REPORT_INVALID_RX = 0x0004 }

[Flags]
public enum StatusFlags : uint { ONLINE = 0x01 }

[Flags]
public enum RxFlags : uint
{
    RX_ACCEL_0 = 1u << 0, RX_ACCEL_1 = 1u << 1, RX_ACCEL_2 = 1u << 2, RX_ACCEL_3 = 1u << 3, RX_ACCEL_4 = 1u << 4, RX_ACCEL_5 = 1u << 5,
    RX_ACCEL_6 = 1u << 6, RX_ACCEL_7 = 1u << 7, RX_ACCEL_8 = 1u << 8, RX_ACCEL_9 = 1u << 9, RX_ACCEL_10 = 1u << 10, RX_ACCEL_11 = 1u << 11,
    RX_ACCEL_12 = 1u << 12, RX_ACCEL_13 = 1u << 13, RX_ACCEL_14 = 1u << 14, RX_ACCEL_15 = 1u << 15,
    RX_OVERRUN = 0x20000000, RX_VALIDATION_ERROR = 0x40000000, RX_ECHOED_TX = 0x80000000,
}

[Flags]
public enum TxFlags : uint
{
    TX_ACCEL_0 = 1u << 0, TX_ACCEL_1 = 1u << 1, TX_ACCEL_2 = 1u << 2, TX_ACCEL_3 = 1u << 3, TX_ACCEL_4 = 1u << 4, TX_ACCEL_5 = 1u << 5,
    TX_ACCEL_6 = 1u << 6, TX_ACCEL_7 = 1u << 7, TX_ACCEL_8 = 1u << 8, TX_ACCEL_9 = 1u << 9, TX_ACCEL_10 = 1u << 10, TX_ACCEL_11 = 1u << 11,
    TX_ACCEL_12 = 1u << 12, TX_ACCEL_13 = 1u << 13, TX_ACCEL_14 = 1u << 14, TX_ACCEL_15 = 1u << 15,
}

[Flags]
public enum TxReturnFlags : uint { TX_RET_NOT_SUPPORTED = 0x1, TX_RET_OUT_OF_RESOURCES = 0x2, TX_RET_NOT_AVAILABLE = 0x4, TX_RET_ERROR = 0x80000000 }

[Flags]
internal enum EthernetFeatures : uint { RAW = 1, ETHERNET_II = 2, E_802_1_Q = 4, E_802_1_Q_IN_Q = 8, E_802_3_LLC_SNAP = 16 }

/// <summary><c>DeviceInfo</c>: what a client needs to build a session (FIFO depths already derived, §3.3).</summary>
public sealed record DeviceInfo(
    [property: ScriptApi] byte MinDescriptorLength,
    [property: ScriptApi] byte DescriptorVersion,
    [property: ScriptApi] ushort RxDepth,
    [property: ScriptApi] ushort TxDepth,
    [property: ScriptApi] uint BufferAlignment,
    [property: ScriptApi] uint MaxBufferLength,
    [property: ScriptApi] uint MinRxBufferLength,
    [property: ScriptApi] uint MinTxBufferLength,
    [property: ScriptApi] ushort MinTxBufferHead,
    [property: ScriptApi] ushort MinTxBufferTail,
    [property: ScriptApi] byte MaxBufferParts,
    [property: ScriptApi] RxAcceleration[] RxAccel,
    [property: ScriptApi] TxAcceleration[] TxAccel);

public sealed record FrameTypeSupport(
    [property: ScriptApi] FrameType Type = FrameType.ETHERNET,
    [property: ScriptApi] uint Features = NetConstants.FRAME_FEATURES_RAW,
    [property: ScriptApi] uint SupportedFlags = 0);

public sealed record PortInfo(
    [property: ScriptApi] byte Id,
    [property: ScriptApi] DeviceClass Class,
    [property: ScriptApi] FrameType[] RxTypes,
    [property: ScriptApi] FrameTypeSupport[] TxTypes);

public sealed record PortStatus([property: ScriptApi] StatusFlags Flags, [property: ScriptApi] uint Mtu);

/// <summary>A <c>DevicePortEvent</c>: <c>existing</c>, <c>added</c>, <c>removed</c> (with <see cref="Id"/>) or <c>idle</c>.</summary>
public sealed record DevicePortEvent([property: ScriptApi] string Kind, [property: ScriptApi] byte? Id)
{
    public override string ToString() => Id is { } id ? $"{Kind}({id})" : Kind;
}

/// <summary>The effective MAC filter the device put into the NIC for one port.</summary>
public sealed record MacState([property: ScriptApi] MacFilterMode Mode, [property: ScriptApi] string[] Multicast);

/// <summary>A frame that left on the wire (test surface).</summary>
public sealed record SentFrame([property: ScriptApi] byte Port, [property: ScriptApi] FrameType FrameType, [property: ScriptApi] uint Flags, [property: ScriptApi] byte[] Bytes);

/// <summary>A tx frame the emulated NIC holds (test surface).</summary>
public sealed record TxBufferInfo(
    [property: ScriptApi] uint Id,
    [property: ScriptApi] byte Port,
    [property: ScriptApi] FrameType FrameType,
    [property: ScriptApi] uint Flags,
    [property: ScriptApi] ushort HeadLength,
    [property: ScriptApi] ushort TailLength,
    [property: ScriptApi] byte[] Bytes);

/// <summary>What <c>Device.OpenSession</c> returns; deconstructs as <c>var (session, fifos) = …</c>.</summary>
public sealed record OpenSessionResult([property: ScriptApi] Session Session, [property: ScriptApi] Fifos Fifos)
{
    [ScriptApi]
    public void Deconstruct(out Session session, out Fifos fifos)
    {
        session = Session;
        fifos = Fifos;
    }
}

/// <summary>The rx and tx FIFOs of a session.</summary>
public sealed record Fifos([property: ScriptApi] Fifo Rx, [property: ScriptApi] Fifo Tx);
