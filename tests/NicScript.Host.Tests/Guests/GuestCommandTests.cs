using NicScript.Host.Guests;

namespace NicScript.Host.Tests.Guests;

/// <summary><c>nicscript guest</c> before QEMU starts: what it needs that is missing is one line, exit 1 (the boot itself
/// is <see cref="VirtioNetGuestTests"/>).</summary>
public sealed class GuestCommandTests
{
    [Fact]
    public void Guest_NoRunExportsTheDevice_SaysSoAndHowToStartOne()
    {
        using var dir = new TempDir();
        string kernel = dir.Write("vmlinux", ""), initrd = dir.Write("initrd.gz", "");

        var (exit, _, err) = NicscriptProcess.RunWith(new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = dir.Path }, dir.Path, null, null,
            "guest", "--kernel", kernel, "--initrd", initrd, "--device", "00:1d.0");

        Assert.Equal(1, exit);
        Assert.Contains("--device 00:1d.0: no running `nicscript run … --export 00:1d.0`", err);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // a shell script stands in for the old QEMU
    public void Guest_QemuTooOld_NamesWhatWasFoundAndTheSetup()
    {
        using var dir = new TempDir();
        string kernel = dir.Write("vmlinux", ""), initrd = dir.Write("initrd.gz", ""), socket = dir.Write("nic.sock", "");
        string qemu = dir.Write("qemu-system-x86_64", "#!/bin/sh\necho 'QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)'\n");
        File.SetUnixFileMode(qemu, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exit, _, err) = NicscriptProcess.Run(dir.Path, null, null,
            "guest", "--kernel", kernel, "--initrd", initrd, "--device", "00:1f.0", "--socket", socket, "--qemu", qemu);

        Assert.Equal(1, exit);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{qemu}: version 7.2 (vfio-user-pci arrived in 10.1)", line);
        Assert.Contains("bash .ci/guest-setup", line);
    }

    [Theory]
    [InlineData("512M", 512)]
    [InlineData("1G", 1024)]
    [InlineData("256", 256)]
    public void MemoryMiB_ReadsSizes(string text, int mib) => Assert.Equal(mib, GuestCommand.MemoryMiB(text));

    [Theory]
    [InlineData("12M")]
    [InlineData("lots")]
    public void MemoryMiB_RefusesOthers(string text) => Assert.Throws<UserErrorException>(() => GuestCommand.MemoryMiB(text));
}
