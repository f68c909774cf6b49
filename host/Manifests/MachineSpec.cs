using System.Collections.Immutable;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Host.Manifests;

/// <summary>A validated machine file: the wires and the devices on them.</summary>
public sealed record MachineSpec(string Path, string Name, ImmutableArray<WireSpec> Wires, ImmutableArray<DeviceSpec> Devices)
{
    /// <summary>What families read from their top-level blocks (<see cref="NicScript.Host.Families.MachineBlock"/>), by the
    /// block's key; a block the file lacks is absent here, and its family uses its defaults.</summary>
    public ImmutableDictionary<string, object> Blocks { get; init; } = ImmutableDictionary<string, object>.Empty;

    /// <summary>What the block <paramref name="key"/> read, or null when the file has none.</summary>
    public T? Block<T>(string key) where T : class => Blocks.TryGetValue(key, out object? read) ? (T)read : null;
}

/// <summary>One wire: <c>loopback</c>, <c>pair</c>, <c>switch</c> (with <c>ports</c>) or <c>tap</c> (with <c>ifname</c>), optional capture and faults.</summary>
public sealed record WireSpec(string Name, string Type, string? IfName, int Ports, string? PcapPath, FaultSettings? Faults, SourceSpan At);

/// <summary>One device: a family's device type (<c>virtio-net</c>, <c>mana</c>) at a PCI address, with a MAC, plugged into a wire.</summary>
/// <param name="Irq">The INTx line, for a type that takes one (<c>virtio-net</c>); null for one that has MSI-X only (<c>mana</c>).</param>
public sealed record DeviceSpec(string Type, PciAddress Address, int? Irq, byte[] Mac, string Wire, SourceSpan At)
{
    /// <summary>The emulated NIC behind the function's netdevice (a <c>netdevice</c> block), or null for the default.</summary>
    public NicScript.Driver.NetDevice.NicConfig? NetDevice { get; init; }

    /// <summary>The host address of the function (its RDMA device's GID is <c>::ffff:</c> this).</summary>
    public System.Net.IPAddress? Ipv4 { get; init; }

    /// <summary>True: an rxe-style RDMA device is bound to the function.</summary>
    public bool Rdma { get; init; }

    /// <summary>The function is given to a guest over vfio-user (key <c>vfio-user</c>, as <c>--export</c>): on this socket,
    /// or on the run's default one when empty; null: not exported.</summary>
    public string? VfioUser { get; init; }
}
