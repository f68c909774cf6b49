using System.Diagnostics;
using System.Text;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.VfioUser;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Guests;

/// <summary><c>nicscript guest</c> booting for real, as a user runs it: with <c>--initrd builtin</c> the command builds the
/// initramfs itself, the guest's network comes up on the exported function and the console is a shell that takes typed
/// commands.</summary>
[Collection(NonParallel.Name)]
public sealed class GuestCommandBootTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120); // as every guest test: a hang, not a slow boot

    [SkippableFact]
    public void Guest_InitrdBuiltin_BringsTheNicUpAndRunsWhatIsTypedAtTheShell()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        using var dir = new TempDir();
        using Machine machine = DefaultMachine.Create(exports: [DefaultMachine.VirtioNet]);
        IDeviceModel nic = machine.Devices.Single(d => d.Function.Address == DefaultMachine.VirtioNet);
        using var server = new VfioUserServer(nic, machine.ExportToGuest(DefaultMachine.VirtioNet), dir.File("nic.sock"), machine.Events);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.Path };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "nicscript.dll"), "guest", "--kernel", guest.Kernel, "--initrd", "builtin",
            "--device", "00:1f.0", "--socket", server.SocketPath, "--qemu", guest.Qemu, "--append", "quiet nicscript.addr=169.254.0.1/16"])
            psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using Process p = Process.Start(psi)!;
        var console = new StringBuilder();
        Task reader = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = p.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
                lock (console) console.Append(buffer, 0, n);
        });
        Task<string> error = p.StandardError.ReadToEndAsync();
        string Console()
        {
            lock (console) return console.ToString();
        }
        try
        {
            while (!Console().Contains("nicscript-guest:/# ", StringComparison.Ordinal) && clock.Elapsed < Bound && !p.HasExited) Thread.Sleep(100);
            Assert.True(Console().Contains("nicscript-guest:/# ", StringComparison.Ordinal), $"no shell prompt within {clock.Elapsed.TotalSeconds:0} s:\n{Console()}\n{(p.HasExited ? error.Result : "")}");
            output.WriteLine($"shell prompt after {clock.Elapsed.TotalSeconds:0.0} s");
            p.StandardInput.Write("echo \"NSBUILTIN $(cat /sys/class/net/eth0/address) flags=$(cat /sys/class/net/eth0/flags) $(ip -o -4 addr show dev eth0 | grep -o 'inet [0-9./]*') $((6 * 7))\"; poweroff -f\n");
            p.StandardInput.Flush();
            Assert.True(p.WaitForExit(Bound - clock.Elapsed > TimeSpan.Zero ? Bound - clock.Elapsed : TimeSpan.Zero), $"QEMU still running at the {Bound.TotalSeconds:0} s bound:\n{Console()}");
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        p.WaitForExit();
        reader.Wait();
        output.WriteLine(Console());
        output.WriteLine(error.Result);

        Assert.Contains("guest: --initrd builtin: busybox and the modules of ", error.Result);
        Assert.Contains("nicscript: network interfaces: eth0 (eth0 has 169.254.0.1/16)", Console());
        Assert.Matches(@"NSBUILTIN 52:54:00:12:34:56 flags=0x1[0-9a-f]*[13579bdf] inet 169\.254\.0\.1/16 42", Console()); // IFF_UP set, the address; 42: the shell ran it
        Assert.Equal(0, p.ExitCode);
        Assert.Null(server.LastCloseReason);
        output.WriteLine($"builtin initramfs boot: {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
