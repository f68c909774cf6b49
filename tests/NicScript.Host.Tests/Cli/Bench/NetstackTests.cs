using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli.Bench;

[Collection(NonParallel.Name)]
public sealed class NetstackTests
{
    [Fact]
    public async Task Netstack_Json_NothingLost_CountersAgree()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        int exit = await Program.RunAsync(cli, ["run", Path.Combine(Repo.Root, "manifests/netstack.yml"), "--json", "--packets", "300", "--cache", dir.File("cache")]);
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        JsonElement root = doc.RootElement;
        Assert.Equal(0, exit);
        Assert.Equal((300, 300, 0), (root.GetProperty("sent").GetInt32(), root.GetProperty("received").GetInt32(), root.GetProperty("lost").GetInt32()));
        JsonElement bridge = root.GetProperty("vnodes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "net-bridge");
        double packetsTx = bridge.GetProperty("metrics").GetProperty("packets_tx").GetProperty("value").GetDouble();
        Assert.Equal(root.GetProperty("received").GetInt32() + root.GetProperty("arp_replies").GetInt32(), (int)packetsTx); // every reply the peer saw, and no other
        Assert.True(bridge.GetProperty("metrics").GetProperty("irq_latency_ns").GetProperty("count").GetInt64() > 0);
    }

    [Fact]
    public async Task Netstack_MissingCapability_FailsWithAClearError()
    {
        using var dir = new TempDir();
        foreach (string f in new[] { "net-bridge.yml", "aethernet.yml" })
            File.Copy(Path.Combine(Repo.Root, "manifests", f), dir.File(f));
        // The same system, with net-bridge's CAP_MEM_SHARE taken away: its first RxPacket is denied.
        string bridge = File.ReadAllText(dir.File("net-bridge.yml")).Replace("  - CAP_MEM_SHARE # For zero-copy data transfer with `svc://aethernet`\n", "")
            .Replace("../scripts/", Path.Combine(Repo.Root, "scripts") + "/");
        File.WriteAllText(dir.File("net-bridge.yml"), bridge);
        File.WriteAllText(dir.File("aethernet.yml"), File.ReadAllText(dir.File("aethernet.yml")).Replace("../scripts/", Path.Combine(Repo.Root, "scripts") + "/"));
        File.WriteAllText(dir.File("netstack.yml"), File.ReadAllText(Path.Combine(Repo.Root, "manifests/netstack.yml")).Replace("packets: 1000", "packets: 20"));
        var error = new StringWriter();
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, error);
        int exit = await Program.RunAsync(cli, ["run", dir.File("netstack.yml"), "--cache", dir.File("cache"), "--duration", "20s"]);
        Assert.Equal(1, exit);
        Assert.Contains("CAP_MEM_SHARE not granted to net-bridge", error.ToString());
    }
}
