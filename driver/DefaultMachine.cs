using System.Net;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver;

/// <summary>The machine a run gets without a machine file: which device families it has, where, and on which wires.</summary>
/// <remarks>Design: the composer is the only place above the families that names them; <see cref="Machine"/> takes any
/// <see cref="IDeviceModel"/>.</remarks>
public static class DefaultMachine
{
    /// <summary>The default machine's RDMA device: on the virtio-net at 00:1f.0, GID ::ffff:192.0.2.1.</summary>
    public static readonly IPAddress RdmaAddress = IPAddress.Parse("192.0.2.1");

    /// <summary>The default machine's virtio-net function.</summary>
    public static readonly PciAddress VirtioNet = new(0, 0, 0x1f, 0);

    /// <summary>The MANA VF of the default machine: PF at 00:1e.0 with SR-IOV, VF 0 at 00:1e.1.</summary>
    public static readonly PciAddress ManaPf = new(0, 0, 0x1e, 0), ManaVf = new(0, 0, 0x1e, 1);

    /// <summary>
    /// The default machine: virtio-net at 00:1f.0, INTx line 11, on a loopback wire (or <paramref name="wire"/>); a MANA
    /// PF at 00:1e.0 whose SR-IOV VF 0 sits at 00:1e.1 (MSI-X vectors after virtio-net's) on its own loopback wire.
    /// </summary>
    /// <param name="exports">Functions given to a guest (<see cref="Machine.ExportToGuest"/>): named before the devices
    /// are made, so each is made on the guest's memory.</param>
    public static Machine Create(IDeviceEvents? events = null, Link? wire = null, IEnumerable<PciAddress>? exports = null)
    {
        var machine = new Machine("default", events);
        var exported = new HashSet<PciAddress>(exports ?? []);
        foreach (PciAddress address in exported) machine.ExportToGuest(address);
        wire = machine.AddLink(wire ?? Links.Loopback("loopback"));
        VirtioNetDevice nic = machine.Add(new VirtioNetDevice(VirtioNet, machine.Domain(VirtioNet), machine.Line(11), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], machine.Events), wire);
        if (!exported.Contains(VirtioNet)) machine.Rdma.Attach(nic, RdmaAddress); // the RDMA engine works in the machine's memory, not a guest's
        Link manaWire = machine.AddLink(Links.Loopback("mana-loopback"));
        machine.Add(new ManaPhysicalFunction(machine, ManaPf, [0x00, 0x15, 0x5d, 0x00, 0x00, 0x01], manaWire)).EnableVfs(1);
        return machine;
    }
}
