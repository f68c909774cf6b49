using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>The netdevice layer's native drivers: which uplink carries a NIC model's frames (one line per NIC family).</summary>
/// <remarks>Design: the one place in the netdevice layer that names families, as a driver's PCI ID table; the registry,
/// the ports and the sessions take any <see cref="INicModel"/>.</remarks>
internal static class NicUplinks
{
    /// <summary>An uplink over <paramref name="nic"/>'s own driver, or null for a NIC no netdevice driver serves.</summary>
    public static INicUplink? For(INicModel nic, DmaMemory memory) => nic switch
    {
        VirtioNetDevice virtio => new VirtioUplink(virtio, memory),
        ManaDevice mana => new ManaUplink(mana, memory),
        _ => null,
    };
}
