namespace NicScript.Host.Tests.Guests;

/// <summary>A guest test's failure message carries the guest console's reason: its last lines, and a panic or a driver's
/// timeout from earlier that the tail would no longer show.</summary>
public sealed class GuestRunTests
{
    [Fact]
    public void Explain_LongConsole_QuotesEarlierTroubleAndTheTail()
    {
        var console = new List<string>
        {
            "[    0.000000] Kernel command line: console=ttyS0 panic=-1 quiet nstest=net",
            "NSTEST start net 3.10", "mana 0000:01:00.0: HWC: Request timed out!",
        };
        for (int i = 0; i < 60; i++) console.Add($"filler {i}");
        console.Add("Kernel panic - not syncing: Fatal exception");
        var run = new GuestRun("net", console, "QEMU exited with 0", TimeSpan.FromSeconds(7.5));

        string message = run.Explain("no ping result");

        Assert.StartsWith("no ping result (scenario net; QEMU exited with 0, 7.5 s after QEMU started).", message);
        Assert.Contains("HWC: Request timed out!", message);
        Assert.Contains("Kernel panic - not syncing", message);
        Assert.DoesNotContain("filler 5\n", message);
        Assert.DoesNotContain("Kernel command line", message);
        Assert.Contains("filler 59", message);
    }

    [Fact]
    public void Value_KeyNeverPrinted_FailsWithTheConsole()
    {
        var run = new GuestRun("ping", ["NSTEST start ping 3.2", "virtio_net: probe of virtio0 failed with error -22"], "QEMU exited with 0", TimeSpan.FromSeconds(6));

        var failure = Assert.ThrowsAny<Exception>(() => run.Value("ping"));

        Assert.Contains("the guest printed no \"NSTEST ping\"", failure.Message);
        Assert.Contains("probe of virtio0 failed with error -22", failure.Message);
    }

    [Fact]
    public void Results_MarkerAfterAKernelMessageOnTheSameLine_IsStillAResult()
    {
        var run = new GuestRun("blk", ["[    4.2] virtio_blk virtio1: [vda] 2048 512-byte logical blocksNSTEST blk-read abc", "NSTEST done blk 4.9"], "QEMU exited with 0", TimeSpan.FromSeconds(5));

        Assert.Equal("abc", run.Value("blk-read"));
        Assert.True(run.Completed);
        Assert.False(run.TryValue("blk", out _));
    }
}
