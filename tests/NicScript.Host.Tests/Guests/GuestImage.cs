using System.Text;

namespace NicScript.Host.Tests.Guests;

/// <summary>The initramfs every guest test boots, one image for all: busybox, the modules the tests need (each after
/// its dependencies), the <c>/init</c> in <c>guest-init/</c> and its scenarios, one of which a kernel argument picks.</summary>
internal static class GuestImage
{
    /// <summary>The drivers under test: the virtio PCI transport with virtio_net and virtio_blk, and MANA's VF driver.
    /// Their dependencies (virtio, virtio_ring, the modern and legacy PCI helpers, failover, net_failover) come along.</summary>
    public static readonly string[] Drivers = ["virtio_pci", "virtio_net", "virtio_blk", "mana"];

    /// <summary>Writes the image to <paramref name="path"/>: <c>/bin/busybox</c>, <c>/lib/modules/NAME.ko</c> with
    /// <c>/lib/modules/order</c>, <c>/init</c> and <c>/scenarios/*</c>.</summary>
    public static void Build(GuestEnvironment guest, string path)
    {
        string scripts = Path.Combine(AppContext.BaseDirectory, "Guests", "guest-init");
        IReadOnlyList<string> order = guest.Modules.LoadOrder(Drivers);
        using var image = new Initramfs(File.Create(path));
        foreach (string dir in (string[])["bin", "dev", "lib", "lib/modules", "proc", "sys", "tmp", "scenarios"])
            image.AddDirectory(dir);
        image.AddCharDevice("dev/console", 5, 1);
        image.AddFile("bin/busybox", File.ReadAllBytes(guest.Busybox), executable: true);
        foreach (string module in order)
            image.AddFile($"lib/modules/{module}.ko", File.ReadAllBytes(guest.Modules.File(module)));
        image.AddFile("lib/modules/order", Encoding.ASCII.GetBytes(string.Join('\n', order) + "\n"));
        image.AddFile("init", File.ReadAllBytes(Path.Combine(scripts, "init")), executable: true);
        foreach (string scenario in Directory.EnumerateFiles(Path.Combine(scripts, "scenarios")).Order())
            image.AddFile($"scenarios/{Path.GetFileName(scenario)}", File.ReadAllBytes(scenario));
    }
}
