using System.Text;

namespace NicScript.Host.Guests;

/// <summary>The initramfs a guest boots: a static busybox as the whole userland, the kernel's modules for NicScript's
/// functions (each after its dependencies), and an <c>/init</c>. <c>nicscript guest --initrd builtin</c> packs the one
/// that brings the network up and gives a shell on the console; the guest tests pack theirs, with their scenarios.</summary>
/// <remarks>Layout: <c>/bin/busybox</c>, <c>/lib/modules/NAME.ko</c> with <c>/lib/modules/order</c> (the order to
/// <c>insmod</c> them in: the guest has no kmod and the unpacked modules no <c>modules.dep</c>), <c>/init</c>, and any
/// further files. Written by <see cref="Initramfs"/>, so the host needs no cpio.</remarks>
internal static class GuestImage
{
    /// <summary>The drivers of NicScript's functions: the virtio PCI transport with virtio_net and virtio_blk, and MANA's
    /// VF driver. Their dependencies (virtio, virtio_ring, the modern and legacy PCI helpers, failover, net_failover) come along.</summary>
    public static readonly string[] Drivers = ["virtio_pci", "virtio_net", "virtio_blk", "mana"];

    /// <summary>What <c>--initrd</c> takes to have the image built (<see cref="Builtin"/>).</summary>
    public const string BuiltinName = "builtin";

    /// <summary>Writes an image to <paramref name="path"/>.</summary>
    /// <param name="modules">The kernel's modules, or null for a kernel with the drivers built in.</param>
    /// <param name="files">More files by their path in the image (their folders are made).</param>
    public static void Build(string path, string busybox, KernelModules? modules, ReadOnlySpan<byte> init, IEnumerable<(string Path, byte[] Content)>? files = null)
    {
        IReadOnlyList<string> order = modules is null ? [] : modules.LoadOrder(Drivers.Where(modules.Has));
        List<(string Path, byte[] Content)> more = [.. files ?? []];
        using var image = new Initramfs(File.Create(path));
        var folders = new List<string> { "bin", "dev", "lib", "lib/modules", "proc", "sys", "tmp" };
        foreach (var (file, _) in more)
            for (string? dir = Path.GetDirectoryName(file); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
                if (!folders.Contains(dir)) folders.Add(dir);
        foreach (string dir in folders.OrderBy(d => d.Count(c => c == '/')).ThenBy(d => d, StringComparer.Ordinal)) image.AddDirectory(dir); // parents first
        image.AddCharDevice("dev/console", 5, 1);
        image.AddFile("bin/busybox", File.ReadAllBytes(busybox), executable: true);
        foreach (string module in order)
            image.AddFile($"lib/modules/{module}.ko", File.ReadAllBytes(modules!.File(module)));
        image.AddFile("lib/modules/order", Encoding.ASCII.GetBytes(string.Join('\n', order) + "\n"));
        image.AddFile("init", init, executable: true);
        foreach (var (file, content) in more) image.AddFile(file, content);
    }

    /// <summary>Builds the <c>builtin</c> image for <paramref name="kernel"/> at <paramref name="path"/>: the setup's busybox,
    /// the setup's modules of the kernel's release when there are some, and an <c>/init</c> that loads them, brings every
    /// network interface up (<c>nicscript.addr=ADDR/LEN</c> on the kernel command line addresses the first) and runs a
    /// shell on the console.</summary>
    /// <returns>What went in, for the console: the modules' release, or why there are none.</returns>
    /// <exception cref="UserErrorException">No busybox where <c>.ci/guest-setup</c> puts it.</exception>
    public static string Builtin(string kernel, string path)
    {
        IReadOnlyList<string> dirs = Qemu.SetupDirectories();
        string busybox = dirs.Select(d => Path.Combine(d, "busybox", "bin", "busybox")).FirstOrDefault(File.Exists)
            ?? throw new UserErrorException($"--initrd {BuiltinName}: no busybox under {string.Join(" or ", dirs)}; `bash .ci/guest-setup` installs it");
        string release = Release(kernel);
        string? modules = release.Length == 0 ? null
            : dirs.Select(d => Path.Combine(d, "kernel", "lib", "modules", release)).FirstOrDefault(Directory.Exists);
        using Stream init = typeof(GuestImage).Assembly.GetManifestResourceStream("NicScript.Host.Guests.builtin-init")
            ?? throw new InvalidOperationException("the builtin /init is not in the assembly");
        var bytes = new MemoryStream();
        init.CopyTo(bytes);
        Build(path, busybox, modules is null ? null : new KernelModules(modules), bytes.ToArray());
        return modules is not null ? $"busybox and the modules of {release}"
            : $"busybox, no modules ({(release.Length == 0 ? "the kernel's name says no release" : $"none for {release}")} under {string.Join(" or ", dirs)}: the drivers must be built in)";
    }

    /// <summary>The release a Debian kernel image's name carries (<c>vmlinux-6.1.0-57-amd64</c>), or "".</summary>
    internal static string Release(string kernel)
    {
        string name = Path.GetFileName(kernel);
        foreach (string prefix in (string[])["vmlinux-", "vmlinuz-"])
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length) return name[prefix.Length..];
        return "";
    }
}
