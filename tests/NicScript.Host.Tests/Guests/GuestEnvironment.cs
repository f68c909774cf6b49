using System.Diagnostics;
using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Guests;

/// <summary>What a guest test boots: QEMU with the vfio-user client, an unmodified Debian kernel with its modules, and a
/// static busybox, as <c>.ci/guest-setup</c> installs them. Found by behaviour (QEMU must say it is at least 10.1 and list
/// <c>vfio-user-pci</c>), so a QEMU on PATH that qualifies serves as well, and one that does not is a reason to skip.</summary>
internal sealed partial class GuestEnvironment
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
            GuestImage.Build(this, path + ".new");
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

    /// <summary>The tests' initramfs (<see cref="GuestImage"/>), built on first use.</summary>
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
        List<string> dirs = SetupDirectories();
        string? qemu = null, version = null;
        var rejected = new List<string>();
        foreach (string candidate in QemuCandidates(dirs))
        {
            string? why = CheckQemu(candidate, out string? v);
            if (why is null) { qemu = candidate; version = v; break; }
            rejected.Add($"{candidate}: {why}");
        }
        if (qemu is null)
            return (null, "no QEMU >= 10.1 with the vfio-user client (-device vfio-user-pci)"
                + (rejected.Count > 0 ? " (" + string.Join("; ", rejected) + ")" : "") + install);

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
                if (Directory.Exists(modules)) return (new GuestEnvironment(qemu, version!, image, modules, busybox), "");
            }
        }
        return (null, $"no guest kernel with its modules and busybox under {string.Join(" or ", dirs)}" + install);
    }

    /// <summary>Where <c>.ci/guest-setup</c> puts things: <c>NICSCRIPT_GUEST_DIR</c>, else root's and the user's cache.</summary>
    private static List<string> SetupDirectories()
    {
        var dirs = new List<string>();
        string? chosen = Environment.GetEnvironmentVariable("NICSCRIPT_GUEST_DIR");
        if (!string.IsNullOrEmpty(chosen)) dirs.Add(chosen);
        dirs.Add("/var/cache/nicscript-guest");
        string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache)) cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        dirs.Add(Path.Combine(cache, "nicscript-guest"));
        return dirs;
    }

    private static IEnumerable<string> QemuCandidates(List<string> dirs)
    {
        foreach (string dir in dirs)
        {
            string wrapper = Path.Combine(dir, "bin", "qemu-system-x86_64");
            if (File.Exists(wrapper)) yield return wrapper;
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string onPath = Path.Combine(dir, "qemu-system-x86_64");
            if (File.Exists(onPath)) yield return onPath;
        }
    }

    /// <summary>Null when <paramref name="qemu"/> is new enough and has the vfio-user client; else why not.</summary>
    private static string? CheckQemu(string qemu, out string? version)
    {
        version = null;
        (int exit, string output) = RunQuick(qemu, "--version");
        Match m = QemuVersionLine().Match(output);
        if (exit != 0 || !m.Success) return $"--version said {output.Trim()}";
        version = m.Value;
        var v = new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
        if (v < new Version(10, 1)) return $"version {v} (vfio-user-pci arrived in 10.1)";
        (exit, output) = RunQuick(qemu, "-machine", "none", "-device", "help");
        return exit == 0 && output.Contains("\"vfio-user-pci\"") ? null : "-device help does not list vfio-user-pci";
    }

    private static (int Exit, string Output) RunQuick(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        try
        {
            using Process p = Process.Start(psi)!;
            Task<string> error = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromSeconds(30))) { p.Kill(); return (-1, "no answer within 30 s"); }
            return (p.ExitCode, output + error.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    [GeneratedRegex(@"QEMU emulator version (\d+)\.(\d+)[^\n]*")]
    private static partial Regex QemuVersionLine();
}
