#pragma warning disable CA1707, CA1822 // FIDL spellings; members are instance properties so both engines see them on net.X
using NicScript.Driver.NetDevice;

namespace NicScript.Host.Capabilities;

// The enums and bits of fuchsia.hardware.network as net.FrameType.ETHERNET, net.SessionFlags.PRIMARY, ... in both
// languages (reference/netdevice.md §8.1): one small object per enum, members spelled as the FIDL spells them.

public sealed class FrameTypes
{
    [ScriptApi] public FrameType ETHERNET => FrameType.ETHERNET;
    [ScriptApi] public FrameType IPV4 => FrameType.IPV4;
    [ScriptApi] public FrameType IPV6 => FrameType.IPV6;
}

public sealed class SessionFlagValues
{
    [ScriptApi] public SessionFlags PRIMARY => SessionFlags.PRIMARY;
    [ScriptApi] public SessionFlags LISTEN_TX => SessionFlags.LISTEN_TX;
    [ScriptApi] public SessionFlags REPORT_INVALID_RX => SessionFlags.REPORT_INVALID_RX;
}

public sealed class RxFlagValues
{
    [ScriptApi] public uint RX_ACCEL_0 => (uint)RxFlags.RX_ACCEL_0;
    [ScriptApi] public uint RX_ACCEL_1 => (uint)RxFlags.RX_ACCEL_1;
    [ScriptApi] public uint RX_ACCEL_2 => (uint)RxFlags.RX_ACCEL_2;
    [ScriptApi] public uint RX_ACCEL_3 => (uint)RxFlags.RX_ACCEL_3;
    [ScriptApi] public uint RX_OVERRUN => (uint)RxFlags.RX_OVERRUN;
    [ScriptApi] public uint RX_VALIDATION_ERROR => (uint)RxFlags.RX_VALIDATION_ERROR;
    [ScriptApi] public uint RX_ECHOED_TX => (uint)RxFlags.RX_ECHOED_TX;
}

public sealed class TxFlagValues
{
    [ScriptApi] public uint TX_ACCEL_0 => (uint)TxFlags.TX_ACCEL_0;
    [ScriptApi] public uint TX_ACCEL_1 => (uint)TxFlags.TX_ACCEL_1;
    [ScriptApi] public uint TX_ACCEL_2 => (uint)TxFlags.TX_ACCEL_2;
    [ScriptApi] public uint TX_ACCEL_3 => (uint)TxFlags.TX_ACCEL_3;
}

public sealed class TxReturnFlagValues
{
    [ScriptApi] public uint TX_RET_NOT_SUPPORTED => (uint)TxReturnFlags.TX_RET_NOT_SUPPORTED;
    [ScriptApi] public uint TX_RET_OUT_OF_RESOURCES => (uint)TxReturnFlags.TX_RET_OUT_OF_RESOURCES;
    [ScriptApi] public uint TX_RET_NOT_AVAILABLE => (uint)TxReturnFlags.TX_RET_NOT_AVAILABLE;
    [ScriptApi] public uint TX_RET_ERROR => (uint)TxReturnFlags.TX_RET_ERROR;
}

public sealed class StatusFlagValues
{
    [ScriptApi] public StatusFlags ONLINE => StatusFlags.ONLINE;
}

public sealed class MacFilterModes
{
    [ScriptApi] public MacFilterMode MULTICAST_FILTER => MacFilterMode.MULTICAST_FILTER;
    [ScriptApi] public MacFilterMode MULTICAST_PROMISCUOUS => MacFilterMode.MULTICAST_PROMISCUOUS;
    [ScriptApi] public MacFilterMode PROMISCUOUS => MacFilterMode.PROMISCUOUS;
}

public sealed class DeviceClasses
{
    [ScriptApi] public DeviceClass VIRTUAL => DeviceClass.VIRTUAL;
    [ScriptApi] public DeviceClass ETHERNET => DeviceClass.ETHERNET;
    [ScriptApi] public DeviceClass WLAN => DeviceClass.WLAN;
    [ScriptApi] public DeviceClass PPP => DeviceClass.PPP;
    [ScriptApi] public DeviceClass BRIDGE => DeviceClass.BRIDGE;
    [ScriptApi] public DeviceClass WLAN_AP => DeviceClass.WLAN_AP;
}

public sealed class InfoTypes
{
    [ScriptApi] public InfoType NO_INFO => InfoType.NO_INFO;
}
