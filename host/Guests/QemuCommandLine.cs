using System.Text.Json.Nodes;

namespace NicScript.Host.Guests;

/// <summary>The QEMU command line that boots a Linux guest on NicScript's functions, shared by <c>nicscript guest</c> and
/// the guest tests.</summary>
/// <remarks>
/// Design: TCG on every host core (this project's machines have no usable KVM), q35 (PCIe, so each function sits behind
/// its own hot-plug root port: QMP <c>device_del</c> removes it as Azure revokes a VF), guest RAM in a shared memfd
/// (vfio-user hands that fd to the function's server, which then reads and writes guest memory itself), no default
/// devices (an e1000e's iPXE ROM costs seconds under TCG), and no reboot: a panic (<c>panic=-1</c>) and a power-off both
/// end QEMU.
/// </remarks>
public static class QemuCommandLine
{
    /// <summary>The machine, kernel and console arguments; the devices come after (<see cref="Device"/>).</summary>
    /// <param name="append">Kernel arguments after <c>console=ttyS0 panic=-1</c>.</param>
    /// <param name="interactive">The console on a terminal: QEMU's monitor shares it (Ctrl-A x quits, Ctrl-A c is the
    /// monitor); otherwise the serial port alone is on standard output.</param>
    public static List<string> Machine(string kernel, string initrd, string append, int memoryMiB, string? qmpSocket, bool interactive = false)
    {
        List<string> args =
        [
            "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "1", "-m", $"{memoryMiB}M",
            "-machine", "q35,memory-backend=mem", "-object", $"memory-backend-memfd,id=mem,size={memoryMiB}M,share=on",
            "-nodefaults", "-nographic", .. interactive ? (string[])["-serial", "mon:stdio"] : ["-serial", "stdio", "-monitor", "none"], "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", ("console=ttyS0 panic=-1 " + append).TrimEnd(),
        ];
        if (qmpSocket is not null) args.AddRange(["-qmp", $"unix:{qmpSocket},server=on,wait=off"]);
        return args;
    }

    /// <summary>A function served over vfio-user by the process listening on <paramref name="socket"/>.</summary>
    public static JsonObject VfioUser(string socket) => new()
    {
        ["driver"] = "vfio-user-pci",
        ["socket"] = new JsonObject { ["path"] = socket, ["type"] = "unix" },
    };

    /// <summary>The function <paramref name="device"/> (QEMU's JSON form) with its id and its root port <c>rp-ID</c>: what
    /// <c>-device</c> takes at start and QMP <c>device_add</c> takes to plug it back.</summary>
    public static JsonObject OnRootPort(JsonObject device, string id)
    {
        var json = (JsonObject)device.DeepClone();
        json["id"] = id;
        json["bus"] = "rp-" + id;
        return json;
    }

    /// <summary>The <c>-device</c> arguments for one function: its root port (<paramref name="chassis"/> numbers it, unique
    /// per machine) and the function on it.</summary>
    public static IEnumerable<string> Device(JsonObject device, string id, int chassis) =>
        ["-device", $"pcie-root-port,id=rp-{id},chassis={chassis}", "-device", OnRootPort(device, id).ToJsonString()];
}
