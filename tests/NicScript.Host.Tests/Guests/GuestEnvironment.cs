using NicScript.Host.Guests;

namespace NicScript.Host.Tests.Guests;

/// <summary>What a guest test boots: QEMU with the vfio-user client, an unmodified Debian kernel with its modules, and a
/// static busybox, as <c>.ci/guest-setup</c> installs them. Found by behaviour (QEMU must say it is at least 10.1 and list
/// <c>vfio-user-pci</c>), so a QEMU on PATH that qualifies serves as well, and one that does not is a reason to skip.</summary>
internal sealed class GuestEnvironment
{
    private static readonly Lazy<(GuestEnvironment? Found, string Why)> Machine = new(Find);
    private readonly Lazy<string> _initramfs;

    private GuestEnvironment(string qemu, string qemuVersion, string kernel, string modules, string busybox)
    {
        Qemu = qemu;
        QemuVersion = qemuVersion;
        Kernel = kernel;
        Modules = new KernelModules(modules);
        Busybox = busybox;
        _initramfs = new(() =>
        {
            string path = Path.Combine(AppContext.BaseDirectory, "guest-initramfs.cpio.gz");
            // the one builder nicscript guest --initrd builtin uses, with the tests' /init and its scenarios
            string scripts = Path.Combine(AppContext.BaseDirectory, "Guests", "guest-init");
            GuestImage.Build(path + ".new", Busybox, Modules, File.ReadAllBytes(Path.Combine(scripts, "init")),
                Directory.EnumerateFiles(Path.Combine(scripts, "scenarios")).Order().Select(f => ($"scenarios/{Path.GetFileName(f)}", File.ReadAllBytes(f))));
            File.Move(path + ".new", path, overwrite: true);
            return path;
        });
    }

    /// <summary>The <c>qemu-system-x86_64</c> to run (the setup's wrapper, or one on PATH).</summary>
    public string Qemu { get; }

    /// <summary>Its first <c>--version</c> line, for test output.</summary>
    public string QemuVersion { get; }

    /// <summary>The kernel image: <c>vmlinux-RELEASE</c> where the setup decompressed it, else <c>vmlinuz-RELEASE</c>.</summary>
    public string Kernel { get; }

    /// <summary>The modules built for that kernel.</summary>
    public KernelModules Modules { get; }

    /// <summary>A statically linked busybox: the guest's whole userland.</summary>
    public string Busybox { get; }

    /// <summary>The tests' initramfs (<see cref="GuestImage"/>: busybox, the modules, <c>guest-init/init</c> and its
    /// scenarios), built on first use.</summary>
    public string Initramfs => _initramfs.Value;

    /// <summary>The environment, or the test skips saying what is missing and how to install it.</summary>
    public static GuestEnvironment Require()
    {
        (GuestEnvironment? found, string why) = Machine.Value;
        Skip.If(found is null, why);
        return found!;
    }

    private static (GuestEnvironment?, string) Find()
    {
        const string install = "; `bash .ci/guest-setup` installs it";
        IReadOnlyList<string> dirs = Host.Guests.Qemu.SetupDirectories();
        if (Host.Guests.Qemu.Find(null, out string whyNot) is not { } qemu) return (null, whyNot);
        string version = qemu.Version;

        foreach (string dir in dirs)
        {
            string boot = Path.Combine(dir, "kernel", "boot");
            string busybox = Path.Combine(dir, "busybox", "bin", "busybox");
            if (!Directory.Exists(boot) || !File.Exists(busybox)) continue;
            foreach (string kernel in Directory.EnumerateFiles(boot, "vmlinuz-*").Order())
            {
                string release = Path.GetFileName(kernel)["vmlinuz-".Length..];
                string modules = Path.Combine(dir, "kernel", "lib", "modules", release);
                // The decompressed image boots through the kernel's PVH entry: no xz decompressor run under TCG,
                // which is two thirds of a boot from vmlinuz (same kernel, same drivers).
                string vmlinux = Path.Combine(boot, "vmlinux-" + release);
                string image = File.Exists(vmlinux) ? vmlinux : kernel;
                if (Directory.Exists(modules)) return (new GuestEnvironment(qemu.Path, version, image, modules, busybox), "");
            }
        }
        return (null, $"no guest kernel with its modules and busybox under {string.Join(" or ", dirs)}" + install);
    }
}
