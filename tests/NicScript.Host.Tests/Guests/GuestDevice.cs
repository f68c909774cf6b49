using System.Text.Json.Nodes;
using NicScript.Host.Guests;

namespace NicScript.Host.Tests.Guests;

/// <summary>A PCI function given to the guest. Each sits alone behind its own PCIe root port (<c>rp-ID</c>): the q35
/// root bus cannot hot-unplug, a root port can, so QMP <c>device_del ID</c> removes it the way Azure revokes a VF.</summary>
internal sealed record GuestDevice(string Id, JsonObject Properties)
{
    /// <summary>A function served over vfio-user by the process listening on <paramref name="socket"/> (NicScript's
    /// server): QEMU connects at start, maps guest memory into it and forwards config, BAR and interrupt traffic.</summary>
    public static GuestDevice VfioUser(string id, string socket) => new(id, QemuCommandLine.VfioUser(socket));

    /// <summary>One of QEMU's own emulated devices (<c>virtio-net-pci</c> with <c>netdev</c>, <c>virtio-blk-pci</c> with
    /// <c>drive</c>): the same path through the guest's drivers with a device model nobody here wrote.</summary>
    public static GuestDevice Emulated(string id, string driver, params (string Name, string Value)[] properties)
    {
        var json = new JsonObject { ["driver"] = driver };
        foreach ((string name, string value) in properties) json[name] = value;
        return new(id, json);
    }

    /// <summary>The function as QEMU's JSON device description, on its root port: what <c>-device</c> takes at start
    /// and QMP <c>device_add</c> takes to plug it back after a <c>device_del</c> (the root port stays).</summary>
    public JsonObject Json() => QemuCommandLine.OnRootPort(Properties, Id);

    /// <summary>The <c>-device</c> arguments: the root port (<paramref name="chassis"/> numbers it, unique per machine)
    /// and the function on it.</summary>
    public IEnumerable<string> QemuArguments(int chassis) => QemuCommandLine.Device(Properties, Id, chassis);
}
