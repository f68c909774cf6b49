namespace NicScript.Driver.Devices.Mana;

/// <summary>Constants of the MANA VF as NicScript emulates it (gdma.md §1–§3); the offsets a driver reads from BAR0.</summary>
internal static class ManaRegisters
{
    public const ushort VendorId = 0x1414;
    public const ushort VfDeviceId = 0x00BA;
    public const ushort PfDeviceId = 0x00B9;

    /// <summary>BAR0 (64-bit memory): registers, SHM aperture, MSI-X table and PBA, doorbell pages.</summary>
    public const int Bar = 0;
    public const uint BarSize = 0x40000;

    /// <summary>VF register: offset of doorbell page 0 from the start of BAR0 (u64).</summary>
    public const int DoorbellPageOffsetRegister = 0x08;
    /// <summary>VF register: size in bytes of one doorbell page (low 16 bits of a u32).</summary>
    public const int DoorbellPageSizeRegister = 0x10;
    /// <summary>VF register: offset of the 32-byte shared-memory aperture (u64).</summary>
    public const int ShmOffsetRegister = 0x18;

    public const int ShmOffset = 0x100;
    public const int ShmSize = 32;
    public const int MsixTableOffset = 0x2000;
    public const int MsixPbaOffset = 0x3000;
    public const int DoorbellPagesOffset = 0x10000;
    public const int DoorbellPageSize = 0x1000;
    public const int DoorbellPages = (int)(BarSize - DoorbellPagesOffset) / DoorbellPageSize;

    /// <summary>Slots of the four queue kinds inside a doorbell page (gdma.md §2).</summary>
    public const int SqDoorbell = 0x000, RqDoorbell = 0x400, CqDoorbell = 0x800, EqDoorbell = 0xFF8;

    /// <summary>cqe_hdr.client_type of every data-path CQE the VF writes (MANA_CQE_COMPLETION): Linux's mana drops a TX
    /// completion of another client type before counting it, and its teardown then waits for that send forever.</summary>
    public const byte CqeClientCompletion = 1;

    /// <summary>TRI_STATE_UNKNOWN (-1) of <c>mana_cfg_rx_steer_req.rx_enable</c>: leave RX as it is.</summary>
    public const uint TriStateUnknown = 0xFFFF_FFFF;

    public const int CqeSize = 64, EqeSize = 16, WqeBu = 32, MaxSqeSize = 512, MaxRqeSize = 256, PageSize = 4096;
    public const int OwnerBitsShift = 29, OwnerBitsMask = 7;
    public const int HwcMessageSize = 4096;

    /// <summary>GDMA status values the device answers with (an open space; 0 is success).</summary>
    public const uint StatusSuccess = 0, StatusCmdUnsupported = 0xFFFF_FFFF, StatusInvalidParameter = 0xC000_000D,
        StatusLengthMismatch = 0xC000_0004, StatusNotFound = 0xC000_0225, StatusInUse = 0xC000_0043, StatusNoResources = 0xC000_009A,
        StatusNotRegistered = 0xC000_0022;

    /// <summary>The HWC's bootstrap values (INIT_DATA items) and resource limits this VF reports.</summary>
    public const int HwcQueueId = 0, HwcDoorbellPage = 0, DataDoorbellPage = 1;
    public const uint PdId = 1;

    /// <summary>The memory key of guest-physical DMA. It must fit the 24-bit value of its INIT_DATA item
    /// (<c>hwc_init_type_data</c>): Linux's mana takes that value as the key of its first HWC request, so a wider key
    /// reached the driver truncated and the device refused the request it then sent.</summary>
    public const uint GpaMkey = 0x00_1001;
    public const int MaxQueuesPerKind = 64;
}
