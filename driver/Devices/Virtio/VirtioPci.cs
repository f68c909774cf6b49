namespace NicScript.Driver.Devices.Virtio;

/// <summary>Virtio 1.x PCI transport constants: status bits, feature bits, capability types, register offsets.</summary>
/// <remarks>HW DATA. Offsets of <c>struct virtio_pci_common_cfg</c> (virtio 1.x §4.1.4.3) and <c>struct virtio_net_config</c> (§5.1.4).</remarks>
public static class VirtioPci
{
    public const ushort VendorId = 0x1af4, TransitionalNetDeviceId = 0x1000, ModernNetDeviceId = 0x1041, SubsystemNet = 1;

    // Device status (§2.1)
    public const byte StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFeaturesOk = 8,
        StatusDeviceNeedsReset = 64, StatusFailed = 128;

    // Feature bits (§5.1.3, §6)
    public const int FeatureCsum = 0, FeatureMtu = 3, FeatureMac = 5, FeatureMrgRxbuf = 15, FeatureStatus = 16,
        FeatureCtrlVq = 17, FeatureMq = 22, FeatureIndirectDesc = 28, FeatureEventIdx = 29, FeatureVersion1 = 32;

    // Capability cfg_type (§4.1.4)
    public const byte CapVendor = 0x09, CfgCommon = 1, CfgNotify = 2, CfgIsr = 3, CfgDevice = 4;

    // Layout of our BAR 4 (16 KiB) and BAR 1 (MSI-X).
    public const int ModernBar = 4, MsixBar = 1;
    public const int CommonOffset = 0x0000, IsrOffset = 0x1000, DeviceOffset = 0x2000, NotifyOffset = 0x3000;
    public const int ModernBarSize = 0x4000, NotifyMultiplier = 4;
    public const int MsixTableOffset = 0x000, MsixPbaOffset = 0x800;
    public const uint MsixBarSize = 0x1000;

    // virtio_pci_common_cfg
    public const int DeviceFeatureSelect = 0x00, DeviceFeature = 0x04, DriverFeatureSelect = 0x08, DriverFeature = 0x0C,
        MsixConfig = 0x10, NumQueues = 0x12, DeviceStatus = 0x14, ConfigGeneration = 0x15, QueueSelect = 0x16,
        QueueSize = 0x18, QueueMsixVector = 0x1A, QueueEnable = 0x1C, QueueNotifyOff = 0x1E, QueueDesc = 0x20,
        QueueDriver = 0x28, QueueDevice = 0x30, CommonLength = 0x38;

    // virtio_net_config
    public const int NetMac = 0, NetStatus = 6, NetMaxPairs = 8, NetMtu = 10, NetConfigLength = 12;
    public const ushort NetStatusLinkUp = 1;

    public const ushort NoVector = 0xFFFF;

    // Control virtqueue (§5.1.6.5): class, command, data (device-readable), ack (device-writable)
    public const byte CtrlMq = 4, CtrlMqVqPairsSet = 0, CtrlOk = 0, CtrlErr = 1;

    /// <summary>struct virtio_net_hdr with VERSION_1 / MRG_RXBUF: 12 bytes.</summary>
    public const int NetHdrSize = 12;

    public const byte HdrFlagNeedsCsum = 1, GsoNone = 0;

    public const int RxQueue = 0, TxQueue = 1, QueueCount = 2, MaxQueueSize = 1024;
}
