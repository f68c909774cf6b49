using System.Diagnostics;

namespace NicScript.Host.Tests.EndToEnd;

/// <summary>The main job with the Linux stack as the peer: net-bridge's NIC on a TAP device in a namespace the test makes.</summary>
[Collection(NonParallel.Name)]
public sealed class NetstackTapTests
{
    [SkippableFact]
    public void Netstack_OnTap_AnswersPingAndArping()
    {
        string? why = NetNamespace.Unavailable() ?? NetNamespace.IputilsArpingMissing();
        Skip.If(why is not null, why);
        using var ns = new NetNamespace();
        using var dir = new TempDir();
        string nicscript = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        using Process host = ns.Start("dotnet", nicscript, "run", Path.Combine(Repo.Root, "manifests/netstack.yml"), "--wire", "tap:nstap1",
            "--duration", "90s", "--cache", dir.File("cache"));
        bool stopped = false;
        try
        {
            Assert.True(ns.WaitForLink("nstap1", TimeSpan.FromSeconds(30)), "the TAP device never appeared");
            NetNamespace.Run("ip", "-n", ns.Name, "addr", "add", "169.254.10.1/24", "dev", "nstap1").EnsureOk();
            NetNamespace.Run("ip", "-n", ns.Name, "link", "set", "nstap1", "up").EnsureOk();
            // arping first: it asks once a second until aethernet answers (the V-Nodes take a moment to start, and the
            // TAP device exists before they do); then every one of 20 pings must come back.
            NetNamespace.Result arping = ns.Exec("arping", "-f", "-w", "30", "-I", "nstap1", "169.254.10.2");
            Assert.True(arping.ExitCode == 0 && arping.Output.Contains("52:54:00:12:34:56", StringComparison.OrdinalIgnoreCase), arping.Output + arping.Error);
            NetNamespace.Result ping = ns.Exec("ping", "-c", "20", "-i", "0.2", "-W", "5", "169.254.10.2");
            Assert.True(ping.Output.Contains("20 packets transmitted, 20 received"), ping.Output);
        }
        finally
        {
            stopped = NetNamespace.StopHost(host);
        }
        Assert.True(stopped, "the host did not stop on SIGINT");
    }
}
