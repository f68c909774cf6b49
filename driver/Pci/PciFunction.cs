namespace NicScript.Driver.Pci;

/// <summary>One function on the bus at a bus:device.function address, with its configuration space.</summary>
public class PciFunction
{
    public PciFunction(PciAddress address, ConfigSpace config, string description)
    {
        Address = address;
        Config = config;
        Description = description;
    }

    public PciAddress Address { get; }

    public ConfigSpace Config { get; }

    /// <summary>What lspci would print after the class, e.g. <c>Red Hat, Inc. Virtio network device</c>.</summary>
    public string Description { get; }

    public ushort VendorId => Config.Read16(ConfigSpace.VendorId);

    public ushort DeviceId => Config.Read16(ConfigSpace.DeviceId);

    /// <summary>Base class, subclass and programming interface, e.g. <c>0x020000</c> for an Ethernet controller.</summary>
    public uint ClassCode => Config.Read32(ConfigSpace.RevisionId) >> 8;

    /// <summary>True once hot-removed: every handle to it fails from then on.</summary>
    public bool Removed { get; internal set; }

    public override string ToString() => $"{Address.Short} [{ClassCode:x6}] {VendorId:x4}:{DeviceId:x4} {Description}";
}
