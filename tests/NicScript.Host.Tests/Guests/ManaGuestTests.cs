using System.Diagnostics;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Guests;

/// <summary>Linux's own mana driver (the Debian 6.1 kernel's, unmodified) binds NicScript's MANA VF exported over
/// vfio-user: the HWC handshake and the whole bring-up (every request answered), a vPort the guest pings through, and
/// the VF revoked under traffic the way Azure revokes one. The driver is the hardware's contract as the world runs it:
/// a model fault it provokes fails the test with the model's reason and the guest console's.</summary>
[Collection(NonParallel.Name)]
public sealed class ManaGuestTests(ITestOutputHelper output)
{
    private const string QemuUnplugAbort = "memory_region_del_subregion: Assertion `subregion->container == mr' failed";

    private static Dictionary<string, string> Ping(int count) => new()
    {
        ["addr"] = ExportedMana.GuestAddress, ["peer"] = ExportedMana.ResponderAddress, ["count"] = count.ToString(),
        ["wait"] = "60", // the mana probe under TCG takes a few seconds
    };

    [SkippableFact]
    public void Mana_ExportedVf_LinuxDriverBringsItUpAndPingsThroughItsWire()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var clock = Stopwatch.StartNew();
        using var dir = new TempDir();
        using var mana = new ExportedMana(dir.File("vf.sock"));
        var options = new GuestBootOptions("ping")
        {
            Devices = [GuestDevice.VfioUser("vf0", mana.Server.SocketPath)],
            KernelArguments = "loglevel=7",
            Parameters = Ping(20),
        };

        GuestRun run = GuestVm.Run(guest, options, output);

        output.WriteLine($"mana bind + 20 pings: {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(mana.Events.Faults.Count == 0, run.Explain("the model refused what the driver did: " + string.Join("; ", mana.Events.Faults)));
        Assert.True(run.Value("ping") == "20/20", run.Explain($"ping {run.Value("ping")}"));
        Assert.True(run.Completed, run.Explain("the ping scenario did not finish"));
        Assert.True(mana.Responder.Echoes >= 20);
        Assert.False(run.Console.Any(l => l.Contains("WARNING:", StringComparison.Ordinal)), run.Explain("the driver warned about what the model did"));
        Assert.True(run.Elapsed < options.Timeout, run.Explain("QEMU did not end after the guest powered off"));
    }

    [SkippableFact]
    public void Mana_VfRevokedWhileThePingRuns_DriverLetsGoNothingLeaksAndItBindsAgain()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var clock = Stopwatch.StartNew();
        using var dir = new TempDir();
        using var mana = new ExportedMana(dir.File("vf.sock"));
        GuestDevice vf = GuestDevice.VfioUser("vf0", mana.Server.SocketPath);
        Dictionary<string, string> parameters = Ping(3);
        parameters["busy"] = "1";
        var options = new GuestBootOptions("unplug")
        {
            Devices = [vf],
            KernelArguments = "loglevel=7",
            Parameters = parameters,
            Qmp = true,
            Timeout = TimeSpan.FromSeconds(180),
        };
        using GuestVm vm = GuestVm.Start(guest, options, output);

        Assert.EndsWith(" 3/3", vm.WaitFor("netdev-up"));
        bool deleted;
        try
        {
            deleted = vm.Unplug(vf, TimeSpan.FromSeconds(60));
        }
        catch (IOException) when (vm.WaitForExit() is var ended && ended.Console.Any(l => l.Contains(QemuUnplugAbort, StringComparison.Ordinal)))
        {
            // QEMU's own bug, not what the server reports: finalizing any vfio-user-pci function with MSI-X (our
            // virtio-net export aborts the same way) runs vfio_user_msix_teardown (hw/vfio-user/pci.c), which deletes
            // the PBA overlay from its BAR's region after object_finalize already unparented that region and emptied
            // it. Upstream's fix ("vfio-user: Do not delete the subregion", 2025-10-10) drops that deletion, and the QEMU
            // .ci/guest-setup builds carries it; with any other QEMU the model's side of the revocation cannot be
            // judged through device_del.
            throw new SkipException($"QEMU aborted finalizing the unplugged vfio-user-pci function ({QemuUnplugAbort}; " +
                "QEMU needs \"vfio-user: Do not delete the subregion\"); guest console:\n" +
                string.Join("\n", ended.Console.TakeLast(8)));
        }
        Assert.True(deleted, "no DEVICE_DELETED: the guest did not let the VF go");
        vm.WaitFor("netdev-gone");
        Assert.True(SpinWait.SpinUntil(() => !mana.Server.Connected, TimeSpan.FromSeconds(30)), "QEMU kept the VF's socket");
        Assert.Empty(mana.Guest.Mappings); // every DMA mapping dropped
        Assert.Equal(0, mana.Guest.Memory.AllocatedBytes); // and nothing of the guest's memory still held
        Assert.False(mana.Vf.HwcUp);
        vm.Replug(vf);
        Assert.EndsWith(" 3/3", vm.WaitFor("netdev-back"));
        GuestRun run = vm.WaitForExit();

        output.WriteLine($"mana revoke + rebind: {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(run.Completed, run.Explain("the guest did not run on after the VF came back"));
        Assert.DoesNotContain(run.Console, line => line.Contains("Kernel panic", StringComparison.Ordinal));
        Assert.True(mana.Events.Faults.Count == 0, run.Explain("the model refused what the driver did: " + string.Join("; ", mana.Events.Faults)));
        Assert.Equal(2, mana.Server.Clients);
    }
}
