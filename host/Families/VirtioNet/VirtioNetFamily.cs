using System.Text;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Wire;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.VirtioNet;

/// <summary>virtio-net: the machine file's <c>virtio-net</c> device (with its netdevice and RDMA device) and its <c>.stats</c> line.</summary>
/// <remarks>Its driver is reached through the core <c>net</c> global (<c>net.open</c>), which every network function shares.</remarks>
internal sealed class VirtioNetFamily : DeviceFamily
{
    public override string Name => "VirtioNet";

    public override IReadOnlyList<MachineDeviceType> DeviceTypes { get; } =
    [
        new("virtio-net", ["type", "address", "irq", "mac", "wire", "netdevice", "ipv4", "rdma"], ["type", "address", "irq", "wire"], Place),
    ];

    /// <summary>A virtio-net function on its INTx line, its netdevice configured, an RDMA device bound when asked.</summary>
    private static void Place(Machine machine, DeviceSpec d, Link wire)
    {
        var function = machine.Add(new VirtioNetDevice(d.Address, machine.Domain(d.Address), machine.Line(d.Irq!.Value), d.Mac, machine.Events), wire);
        if (d.NetDevice is { } nic) machine.NetDevices.Configure(d.Address, nic);
        if (d.Rdma && d.Ipv4 is { } ip) machine.Rdma.Attach(function, ip);
    }

    public override void AppendStats(Machine machine, StringBuilder text)
    {
        foreach (var d in machine.Devices.OfType<VirtioNetDevice>())
            text.Append($"{d.Function.Address.Short} virtio-net: tx {d.Stats.TxPacketsCount} ({d.Stats.TxErrorsCount} errors), rx {d.Stats.RxPacketsCount} ({d.Stats.RxDroppedCount} dropped), interrupts {d.Stats.InterruptsCount}, status 0x{d.Status:x2}\n");
    }
}
