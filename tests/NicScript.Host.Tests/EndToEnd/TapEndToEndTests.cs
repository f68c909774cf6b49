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
