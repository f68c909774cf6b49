namespace NicScript.Driver.Devices.VirtioBlk;

/// <summary>virtio-blk constants (virtio 1.x §5.2): feature bits, the configuration layout, request types and status.</summary>
/// <remarks>HW DATA. <c>struct virtio_blk_config</c> and <c>struct virtio_blk_req</c> as Linux's
/// <c>include/uapi/linux/virtio_blk.h</c> lays them out; capacity is counted in 512-byte sectors whatever blk_size says.</remarks>
public static class VirtioBlk
{
    public const ushort ModernDeviceId = 0x1042, SubsystemBlk = 2;
    public const uint ClassCode = 0x010000; // mass storage, SCSI (what QEMU's virtio-blk-pci reports)

    // Feature bits (§5.2.3)
    public const int FeatureSizeMax = 1, FeatureSegMax = 2, FeatureGeometry = 4, FeatureRo = 5, FeatureBlkSize = 6, FeatureFlush = 9,
        FeatureTopology = 10, FeatureConfigWce = 11, FeatureMq = 12, FeatureDiscard = 13, FeatureWriteZeroes = 14;

    // struct virtio_blk_config
    public const int ConfigCapacity = 0, ConfigSizeMax = 8, ConfigSegMax = 12, ConfigBlkSize = 20, ConfigWriteback = 32,
        ConfigNumQueues = 34, ConfigLength = 36;

    // struct virtio_blk_req: le32 type, le32 reserved, le64 sector; data; u8 status
    public const int HeaderSize = 16, SectorSize = 512, IdBytes = 20;

    public const uint TypeIn = 0, TypeOut = 1, TypeFlush = 4, TypeGetId = 8, TypeGetLifetime = 10, TypeDiscard = 11, TypeWriteZeroes = 13,
        TypeSecureErase = 14;

    public const byte StatusOk = 0, StatusIoErr = 1, StatusUnsupp = 2;

    /// <summary>A status byte's name, for messages.</summary>
    public static string StatusName(byte status) => status switch
    {
        StatusOk => "OK",
        StatusIoErr => "IOERR",
        StatusUnsupp => "UNSUPP",
        _ => $"0x{status:x2}",
    };
}

/// <summary>What the host side of a disk sees, as the DPU's VdiskTransStatus numbers it.</summary>
public enum VirtioBlkState
{
    /// <summary>No driver has set DRIVER_OK.</summary>
    Idle = 0,
    /// <summary>The driver is ready and requests are served.</summary>
    Running = 1,
    /// <summary>Paused: requests wait in the rings.</summary>
    Paused = 2,
    /// <summary>The device set DEVICE_NEEDS_RESET or the driver set FAILED.</summary>
    Error = 3,
}
