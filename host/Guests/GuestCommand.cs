using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NicScript.Driver.Pci;
using NicScript.Host.Cli;

namespace NicScript.Host.Guests;

/// <summary><c>nicscript guest</c>: boots a Linux guest under QEMU whose PCI functions are a running machine's exported
/// ones (<c>nicscript run … --export</c>), and streams its console, so a driver author watches the real driver work a
/// NicScript model.</summary>
/// <remarks>Design: QEMU gets the terminal itself (its console is the guest's serial port; on a terminal Ctrl-A x quits
/// and Ctrl-A c reaches its monitor); this command finds QEMU and the sockets, builds the command line
/// (<see cref="QemuCommandLine"/>, the guest tests' too) and ends with QEMU's exit code.</remarks>
public sealed class GuestCommand
{
    private readonly CliContext _cli;

    public GuestCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var kernel = new Option<string>("--kernel") { Description = "The guest kernel: a vmlinuz, or a vmlinux (boots faster under TCG; .ci/guest-setup makes one).", Required = true };
        var initrd = new Option<string>("--initrd") { Description = "The guest's initramfs, or `builtin`: busybox with the kernel's modules from .ci/guest-setup's cache, the network up, a shell on the console.", Required = true };
        var device = new Option<string[]>("--device") { Description = "A function a running `nicscript run … --export ADDRESS` exports; repeatable.", HelpName = "ADDRESS", Required = true };
        var socket = new Option<string?>("--socket") { Description = "The exported function's socket (with one --device; default: the one a running run prints at start)." };
        var append = new Option<string>("--append") { Description = "More kernel arguments (loglevel=7 shows a driver's bring-up).", DefaultValueFactory = _ => "" };
        var memory = new Option<string>("--memory") { Description = "Guest RAM (512M, 1G).", DefaultValueFactory = _ => "512M" };
        var qemu = new Option<string?>("--qemu") { Description = "The qemu-system-x86_64 to run (>= 10.1 with vfio-user-pci); default: NICSCRIPT_QEMU, .ci/guest-setup's, then PATH." };
        var cmd = new Command("guest", """
            Boot a Linux guest (QEMU, TCG) on functions a running `nicscript run … --export` gives it, the console on this terminal.
            Exits with QEMU's exit code (0 after a power-off or a panic: read the console).

            Examples:
              nicscript guest --kernel vmlinux --initrd initrd.gz --device 00:1e.0
              nicscript guest --kernel vmlinux-6.1.0-57-amd64 --initrd builtin --device 00:1e.0 --append nicscript.addr=169.254.0.1/16
              nicscript guest --kernel vmlinuz --initrd initrd.gz --device 00:1f.0 --socket /tmp/nic.sock --append loglevel=7
            """)
        { kernel, initrd, device, socket, append, memory, qemu };
        cmd.SetAction((p, cancel) => new GuestCommand(cli).ExecuteAsync(p.GetRequiredValue(kernel), p.GetRequiredValue(initrd), p.GetRequiredValue(device),
            p.GetValue(socket), p.GetValue(append) ?? "", p.GetValue(memory) ?? "512M", p.GetValue(qemu), cancel));
        return cmd;
    }

    /// <returns>QEMU's exit code.</returns>
    public async Task<int> ExecuteAsync(string kernel, string initrd, IReadOnlyList<string> devices, string? socket, string append, string memory, string? qemuPath, CancellationToken cancel)
    {
        bool builtin = initrd == GuestImage.BuiltinName;
        foreach (var (option, path) in builtin ? new[] { ("--kernel", kernel) } : [("--kernel", kernel), ("--initrd", initrd)])
            if (!File.Exists(path)) throw new UserErrorException($"{option} {path}: no such file");
        int memoryMiB = MemoryMiB(memory);
        if (socket is not null && devices.Count != 1) throw new UserErrorException("--socket names one function's socket: give one --device with it");
        var sockets = new List<(PciAddress Address, string Socket)>();
        foreach (string d in devices)
        {
            if (!PciAddress.TryParse(d, out PciAddress address, out string? error)) throw new UserErrorException($"--device {d}: {error}");
            sockets.Add((address, socket is not null ? SocketAt(socket) : Running(address)));
        }
        Qemu found = Qemu.Find(qemuPath, out string whyNot) ?? throw new UserErrorException(whyNot);
        string? built = null;
        if (builtin)
        {
            // built for this boot, into a folder of its own that goes when QEMU ends (QEMU reads it at start)
            built = Path.Combine(Directory.CreateTempSubdirectory("nicscript-guest-").FullName, "initramfs.cpio.gz");
            _cli.Error.WriteLine($"guest: --initrd builtin: {GuestImage.Builtin(kernel, built)}");
            initrd = built;
        }
        try
        {
            return await BootAsync(found, kernel, initrd, sockets, append, memoryMiB, cancel).ConfigureAwait(false);
        }
        finally
        {
            if (built is not null) Directory.Delete(Path.GetDirectoryName(built)!, recursive: true);
        }
    }

    private async Task<int> BootAsync(Qemu found, string kernel, string initrd, List<(PciAddress Address, string Socket)> sockets, string append, int memoryMiB, CancellationToken cancel)
    {

        bool interactive = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        List<string> args = QemuCommandLine.Machine(Path.GetFullPath(kernel), Path.GetFullPath(initrd), append, memoryMiB, qmpSocket: null, interactive);
        for (int i = 0; i < sockets.Count; i++)
            args.AddRange(QemuCommandLine.Device(QemuCommandLine.VfioUser(sockets[i].Socket), "f" + i.ToString(CultureInfo.InvariantCulture), chassis: i + 1));
        _cli.Error.WriteLine($"guest: {found.Version} ({found.Path}), {string.Join(", ", sockets.Select(s => $"{s.Address.Short} on {s.Socket}"))}"
            + (interactive ? "; Ctrl-A x quits" : ""));

        var psi = new ProcessStartInfo(found.Path) { UseShellExecute = false }; // QEMU shares this terminal: its console is ours
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process process = Process.Start(psi)!;
        try
        {
            await process.WaitForExitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        _cli.Error.WriteLine($"guest: QEMU exited with {process.ExitCode}");
        return process.ExitCode;
    }

    private static string SocketAt(string socket) =>
        File.Exists(socket) ? Path.GetFullPath(socket) : throw new UserErrorException($"--socket {socket}: no such socket (is `nicscript run … --export` running?)");

    private static string Running(PciAddress address) => ExportSockets.Running(address) switch
    {
        [string one] => one,
        [] => throw new UserErrorException($"--device {address.Short}: no running `nicscript run … --export {address.Short}` (looked in {ExportSockets.Root}); start one, or give --socket"),
        var many => throw new UserErrorException($"--device {address.Short}: several runs export it ({string.Join(", ", many)}); choose one with --socket"),
    };

    /// <summary>Guest RAM in MiB from <c>512M</c>, <c>1G</c> or a plain number of MiB.</summary>
    internal static int MemoryMiB(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        int scale = t.EndsWith('G') ? 1024 : 1;
        if (t.EndsWith('G') || t.EndsWith('M')) t = t[..^1];
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 && (long)n * scale is >= 64 and <= 65536) return n * scale;
        throw new UserErrorException($"--memory {text}: a size from 64M to 64G (512M, 1G)");
    }
}
