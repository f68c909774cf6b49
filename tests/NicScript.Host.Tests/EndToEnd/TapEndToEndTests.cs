using System.Diagnostics;

namespace NicScript.Host.Tests.EndToEnd;

/// <summary>The Linux stack as the peer: the host runs in a namespace the test makes, its NIC on a TAP device there.</summary>
[Collection(NonParallel.Name)]
public sealed class TapEndToEndTests
{
    [SkippableFact]
    public void Responder_OnTap_AnswersPingAndTheCaptureShowsIt()
    {
        string? why = NetNamespace.Unavailable();
        Skip.If(why is not null, why);
        using var ns = new NetNamespace();
        using var dir = new TempDir();
        string pcap = dir.File("run.pcap");
        string nicscript = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        string manifest = Path.Combine(Repo.Root, "manifests/responder.yml");
        using Process host = ns.Start("dotnet", nicscript, "run", manifest, "--wire", "tap:nstap0", "--pcap", pcap,
            "--duration", "60s", "--cache", dir.File("cache"));
        bool stopped = false;
        try
        {
            Assert.True(ns.WaitForLink("nstap0", TimeSpan.FromSeconds(30)), "the TAP device never appeared");
            NetNamespace.Run("ip", "-n", ns.Name, "addr", "add", "169.254.0.1/24", "dev", "nstap0").EnsureOk();
            NetNamespace.Run("ip", "-n", ns.Name, "link", "set", "nstap0", "up").EnsureOk();
            // The TAP device exists before the V-Node is up: one echo answered first (a ping a second, up to a minute).
            NetNamespace.Result first = ns.Exec("ping", "-c", "1", "-w", "60", "169.254.0.2");
            Assert.True(first.ExitCode == 0, "the responder never answered: " + first.Output + first.Error);
            NetNamespace.Result ping = ns.Exec("ping", "-c", "5", "-i", "0.2", "-W", "5", "169.254.0.2");
            if (!ping.Output.Contains("5 packets transmitted, 5 received"))
            {
                NetNamespace.StopHost(host);
                Assert.Fail($"ping: {ping.Output}\nhost: {host.StandardOutput.ReadToEnd()}{host.StandardError.ReadToEnd()}");
            }
        }
        finally
        {
            stopped = NetNamespace.StopHost(host); // SIGINT: the host stops its V-Nodes and flushes the capture
        }
        Assert.True(stopped, "the host did not stop on SIGINT");
        NetNamespace.Result tshark = NetNamespace.Run("tshark", "-r", pcap, "-Y", "icmp", "-T", "fields", "-e", "icmp.type");
        Assert.Equal(0, tshark.ExitCode);
        string[] types = tshark.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int requests = types.Count(t => t == "8"), replies = types.Count(t => t == "0"); // from the kernel; from the script
        Assert.True(replies >= 6 && requests >= replies, $"{requests} echo requests, {replies} replies in the capture");
        Assert.False(NetNamespace.Run("ip", "-n", ns.Name, "link", "show", "nstap0").ExitCode == 0, "the TAP device outlived the host");
    }
}

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
