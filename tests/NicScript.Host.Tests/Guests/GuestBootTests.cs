using NicScript.Host.Guests;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Guests;

/// <summary>The guest chain on its own, before any NicScript device: the Debian kernel boots the tests' initramfs under
/// QEMU TCG, <c>/init</c> loads the drivers the guest tests judge with, and those drivers bind QEMU's own virtio devices
/// (a ping through virtio_net, a sector through virtio_blk, a hot-unplug through the driver's remove path), so a failure
/// of a NicScript device's guest test is about that device.</summary>
[Collection(NonParallel.Name)]
public sealed class GuestBootTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Guest_WithoutDevices_RunsInitLoadsTheDriversAndPowersOff()
    {
        GuestEnvironment guest = GuestEnvironment.Require();

        GuestRun run = GuestVm.Run(guest, new GuestBootOptions("boot"), output);

        Assert.True(run.Completed, run.Explain("the boot scenario did not finish"));
        Assert.False(run.TryValue("insmod-failed", out string? module), run.Explain($"insmod {module} failed"));
        string[] loaded = run.Value("modules").Split(' ');
        foreach (string driver in GuestImage.Drivers) Assert.Contains(driver, loaded);
        output.WriteLine($"boot to power-off: {run.Elapsed.TotalSeconds:0.0} s");
    }

    [SkippableFact]
    public void VirtioNet_QemusOwnDevice_BindsAndPingsTheGateway()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var options = new GuestBootOptions("ping")
        {
            // QEMU's user network answers echo requests to its gateway itself: no host network is touched.
            Devices = [GuestDevice.Emulated("nic0", "virtio-net-pci", ("netdev", "n0"), ("romfile", ""))],
            QemuArguments = ["-netdev", "user,id=n0,restrict=on"],
            Parameters = new Dictionary<string, string> { ["addr"] = "10.0.2.15/24", ["peer"] = "10.0.2.2", ["count"] = "5" },
        };

        GuestRun run = GuestVm.Run(guest, options, output);

        Assert.True(run.Value("ping") == "5/5", run.Explain($"ping {run.Value("ping")}"));
        Assert.Contains("tx_packets=", run.Value("counters"));
        Assert.True(run.Completed, run.Explain("the ping scenario did not finish"));
    }

    [SkippableFact]
    public void VirtioBlk_QemusOwnDevice_GuestWriteLandsInTheFileAndHostMarkerIsRead()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        using var dir = new TempDir();
        string disk = dir.File("disk.img");
        byte[] image = new byte[1 << 20];
        Encoding.ASCII.GetBytes("host-marker-4242").CopyTo(image, 0);
        File.WriteAllBytes(disk, image);
        var options = new GuestBootOptions("blk")
        {
            Devices = [GuestDevice.Emulated("disk0", "virtio-blk-pci", ("drive", "d0"))],
            QemuArguments = ["-drive", $"file={disk},format=raw,if=none,id=d0"],
            Parameters = new Dictionary<string, string> { ["write"] = "guest-pattern-77", ["wsector"] = "8", ["rsector"] = "0" },
        };

        GuestRun run = GuestVm.Run(guest, options, output);

        Assert.True(run.Value("blk-read") == "host-marker-4242", run.Explain($"the guest read \"{run.Value("blk-read")}\" at sector 0"));
        Assert.True(run.Completed, run.Explain("the blk scenario did not finish"));
        Assert.Equal("guest-pattern-77", Encoding.ASCII.GetString(File.ReadAllBytes(disk), 8 * 512, "guest-pattern-77".Length));
    }

    [SkippableFact]
    public void VirtioNet_HotUnpluggedAndReplugged_DriverLetsGoAndBindsAgain()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        GuestDevice nic = GuestDevice.Emulated("nic0", "virtio-net-pci", ("netdev", "n0"), ("romfile", ""));
        var options = new GuestBootOptions("unplug")
        {
            Devices = [nic],
            QemuArguments = ["-netdev", "user,id=n0,restrict=on"],
            Qmp = true,
        };
        using GuestVm vm = GuestVm.Start(guest, options, output);

        Assert.Equal("eth0 3/3", vm.WaitFor("netdev-up"));
        Assert.True(vm.Unplug(nic, TimeSpan.FromSeconds(60)), "no DEVICE_DELETED: the guest did not let the NIC go");
        Assert.Equal("eth0", vm.WaitFor("netdev-gone"));
        vm.Replug(nic);
        Assert.Equal("eth0 3/3", vm.WaitFor("netdev-back"));
        GuestRun run = vm.WaitForExit();
        Assert.True(run.Completed, run.Explain("the guest did not run on after the replug"));
    }

    [SkippableFact]
    public void VfioUserDevice_NoServer_FailsWithQemusReason()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        using var dir = new TempDir();
        var options = new GuestBootOptions("boot") { Devices = [GuestDevice.VfioUser("f0", dir.File("absent.sock"))] };

        GuestRun run = GuestVm.Run(guest, options, output);

        Assert.False(run.Completed);
        Assert.Contains("Failed to connect to", run.Explain("QEMU refused the vfio-user device"));
    }

    [SkippableFact]
    public void VfioUserDevice_ListeningSocket_QemuConnectsAndOpensWithVersion()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        using var dir = new TempDir();
        string path = dir.File("f0.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var options = new GuestBootOptions("boot") { Devices = [GuestDevice.VfioUser("f0", path)], Timeout = TimeSpan.FromSeconds(60) };
        using GuestVm vm = GuestVm.Start(guest, options, output);

        using Socket client = listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        byte[] header = new byte[16]; // docs/devel/vfio-user.rst: id u16, command u16, size u32, flags u32, error u32
        client.ReceiveTimeout = 60_000;
        int got = 0;
        while (got < header.Length && client.Receive(header.AsSpan(got)) is int n and > 0) got += n;
        client.Close(); // no server behind it: QEMU gives up on the device and ends

        Assert.Equal(16, got);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(2))); // VFIO_USER_VERSION
        Assert.True(BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) > 20, "VERSION carries major, minor and JSON capabilities");
        Assert.False(vm.WaitForExit().Completed);
    }
}
