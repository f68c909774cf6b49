using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary>Users' mistakes on the command line and in the files it reads: one line naming what was wrong, exit 1, no stack
/// trace, and nothing made before the mistake was found.</summary>
public sealed class UserErrorExitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out, string Err) Nicscript(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        int exit = Program.RunAsync(new CliContext(console, output, error), args).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Exit 1 and exactly one line on stderr, which contains every one of <paramref name="expected"/>; no stack trace.</summary>
    private static string OneLine((int Exit, string Out, string Err) r, params string[] expected)
    {
        Assert.True(r.Exit == 1, $"exit {r.Exit}: {r.Err}");
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("internal error", r.Err);
        string line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        foreach (string e in expected) Assert.Contains(e, line);
        return line;
    }

    private static string Hello => Path.Combine(Repo.Root, "manifests/hello.yml");

    // ---- machine files that validated and then crashed the build ----

    [Theory]
    [InlineData("wires: []\ndevices: []\n", ":2:8:", "at least one wire")]
    [InlineData("wires:\n  - {name: w, type: loopback}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w}\n  - {type: virtio-net, address: \"00:04.0\", irq: 6, wire: w}\n", ":6:", "no free port")]
    [InlineData("wires:\n  - {name: w, type: tap, ifname: t0}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w}\n  - {type: virtio-net, address: \"00:04.0\", irq: 6, wire: w}\n", ":6:", "no free port")]
    [InlineData("wires:\n  - {name: w, type: pair}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w}\n  - {type: virtio-net, address: \"00:04.0\", irq: 6, wire: w}\n  - {type: virtio-net, address: \"00:05.0\", irq: 6, wire: w}\n", ":7:", "no free port")]
    [InlineData("wires:\n  - {name: w, type: switch, ports: 2}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w}\n  - {type: virtio-net, address: \"00:04.0\", irq: 6, wire: w}\n  - {type: virtio-net, address: \"00:05.0\", irq: 6, wire: w}\n", ":7:", "has 2 ports")]
    [InlineData("wires:\n  - {name: w, type: switch, ports: 0}\ndevices: []\n", ":3:", "1..1024")]
    [InlineData("wires:\n  - {name: w, type: switch, ports: -3}\ndevices: []\n", ":3:", "1..1024")]
    [InlineData("wires:\n  - {name: w, type: switch, ports: 4294967297}\ndevices: []\n", ":3:", "1..1024")]
    [InlineData("wires:\n  - {name: w, type: pair, ports: 4}\ndevices: []\n", ":3:", "applies to a switch")]
    [InlineData("wires:\n  - {name: w, type: loopback, ifname: t0}\ndevices: []\n", ":3:", "applies to a tap")]
    [InlineData("wires:\n  - {name: w, type: tap, ifname: abcdefghijklmnop}\ndevices: []\n", ":3:", "IFNAMSIZ")]
    [InlineData("wires:\n  - {name: w, type: tap, ifname: \"a/b\"}\ndevices: []\n", ":3:", "interface name")]
    [InlineData("wires:\n  - {name: w, type: tap, ifname: \"..\"}\ndevices: []\n", ":3:", "interface name")]
    [InlineData("wires:\n  - {name: \"\", type: loopback}\ndevices: []\n", ":3:", "must not be empty")]
    [InlineData("wires:\n  - {name: w, type: pair, pcap: a.pcap}\n  - {name: v, type: pair, pcap: ./a.pcap}\ndevices: []\n", ":4:", "another wire's capture")]
    [InlineData("wires:\n  - {name: w, type: pair, pcap: .}\ndevices: []\n", ":3:", "a folder")]
    [InlineData("wires:\n  - {name: w, type: pair, faults: {delay_ms: 1e300}}\ndevices: []\n", ":3:", "delay_ms")]
    [InlineData("wires:\n  - {name: w, type: pair, faults: {delay_ms: -1}}\ndevices: []\n", ":3:", "delay_ms")]
    [InlineData("wires:\n  - {name: w, type: pair, faults: {drop: 1.5}}\ndevices: []\n", ":3:", "drop must be in [0, 1]")]
    [InlineData("wires:\n  - {name: w, type: pair, faults: {seed: 99999999999}}\ndevices: []\n", ":3:", "seed")]
    [InlineData("wires:\n  - {name: w, type: pair, faults: {seed: 1.5}}\ndevices: []\n", ":3:", "seed")]
    [InlineData("wires:\n  - {name: dpu-soc0, type: loopback}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: dpu-soc0}\n", ":3:", "DPU port")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, mac: \"01:00:5e:00:00:01\"}\n", ":5:", "multicast")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, mac: \"00:00:00:00:00:00\"}\n", ":5:", "zero")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w}\n  - {type: virtio-net, address: \"00:04.0\", irq: 5, wire: w, mac: \"52:54:00:12:34:56\"}\n", ":6:", "already the MAC")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, ipv4: 10.0.0.1, rdma: true}\n  - {type: virtio-net, address: \"00:04.0\", irq: 5, wire: w, ipv4: 10.0.0.1, rdma: true}\n", ":6:", "another device's address")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, ipv4: \"10.1\"}\n", ":5:", "not an IPv4 address")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, netdevice: {rx_depth: 4294967297}}\n", ":5:", "rx_depth")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, netdevice: {min_tx_buffer_head: 70000}}\n", ":5:", "min_tx_buffer_head")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: w, netdevice: {ports: [{id: 0, mtu: -1}]}}\n", ":5:", "port mtu")]
    [InlineData("wires:\n  - {name: w, type: switch}\ndevices:\n  - {type: virtio-net, address: \"00:03.0\", irq: 5, wire: nowhere}\n", ":5:", "not defined")]
    public void MachineShow_FileTheBuilderCannotBuild_OneLineAtItsPlace(string body, string at, string expected)
    {
        string path = _dir.Write("m.yml", "machine: {name: m}\n" + body);
        OneLine(Nicscript("machine", "show", "--machine", path), path + at, expected);
    }

    [Fact]
    public void MachineShow_TwoHundredFiftySixDevicesOnASwitch_Builds()
    {
        var text = new System.Text.StringBuilder("machine: {name: m}\nwires:\n  - {name: w, type: switch, ports: 256}\ndevices:\n");
        for (int i = 0; i < 256; i++) text.Append($"  - {{type: virtio-net, address: \"01:{i / 8:x2}.{i % 8}\", irq: 5, wire: w}}\n");
        var r = Nicscript("machine", "show", "--machine", _dir.Write("big.yml", text.ToString()));
        Assert.True(r.Exit == 0, r.Err);
    }

    // ---- command-line values ----

    [Theory]
    [InlineData("delay_ms=1e300", "delay_ms")]
    [InlineData("delay_ms=NaN", "delay_ms")]
    [InlineData("delay_ms=-5", "delay_ms")]
    [InlineData("delay_ms=Infinity", "delay_ms")]
    [InlineData("drop=1.01", "drop must be in [0, 1]")]
    [InlineData("corrupt=-0.1", "corrupt must be in [0, 1]")]
    [InlineData("reorder=NaN", "reorder must be in [0, 1]")]
    [InlineData("seed=1e300", "seed")]
    [InlineData("seed=2.5", "seed")]
    [InlineData("jitter=0.1", "unknown fault")]
    [InlineData("drop=0.1,drop=0.2", "given twice")]
    [InlineData("drop", "name=number")]
    public void Run_BadFaults_OneLineBeforeAnythingRuns(string faults, string expected)
    {
        string log = _dir.File("run.log");
        OneLine(Nicscript("run", Hello, "--faults", faults, "--log-file", log), "--faults", expected);
        Assert.False(File.Exists(log), "the log file was made before the options were checked");
    }

    [Theory]
    [InlineData("--rate", "NaN", "--rate")]
    [InlineData("--rate", "-1", "--rate")]
    [InlineData("--rate", "Infinity", "--rate")]
    [InlineData("--packets", "0", "--packets")]
    [InlineData("--restarts", "101", "--restarts")]
    [InlineData("--wire", "tap:a/b", "--wire")]
    [InlineData("--wire", "tap:abcdefghijklmnop", "IFNAMSIZ")]
    [InlineData("--wire", "ring", "not a wire")]
    [InlineData("--metrics-listen", "10.0.0.1:9100", "loopback")]
    [InlineData("--metrics-listen", "127.0.0.1:0", "--metrics-listen")]
    [InlineData("--dpu-listen", "127.0.0.1:70000", "--dpu-listen")]
    [InlineData("--dpu-listen", "10.1:5", "--dpu-listen")]
    [InlineData("--dpu-listen", "192.0.2.77:50051", "cannot listen there")] // TEST-NET-1: an address this host does not have
    [InlineData("--metrics-listen", "[::1]:x", "--metrics-listen")]
    public void Run_BadOption_OneLineAndNothingMade(string option, string value, string expected)
    {
        string log = _dir.File("run.log"), audit = _dir.File("audit.jsonl"), pcap = _dir.File("run.pcap");
        OneLine(Nicscript("run", Hello, option, value, "--log-file", log, "--audit", audit, "--pcap", pcap), expected);
        Assert.False(File.Exists(log) || File.Exists(audit) || File.Exists(pcap), "a file was made before the options were checked");
    }

    [Theory]
    [InlineData("--pcap")]
    [InlineData("--audit")]
    [InlineData("--log-file")]
    public void Run_FileOptionIsAFolder_OneLine(string option) =>
        OneLine(Nicscript("run", Hello, option, _dir.Path), option, "not a folder");

    [Theory]
    [InlineData("run")]
    [InlineData("check")]
    public void CacheIsAFile_OneLine(string command) =>
        OneLine(Nicscript(command, Path.Combine(Repo.Root, "manifests/hello-cs.yml"), "--cache", _dir.Write("cache", "x")), "--cache", "not a file");

    [Fact]
    public void Serve_NegativeDuration_RefusedBeforeTheStateExists()
    {
        string state = _dir.File("state");
        OneLine(Nicscript("serve", "--listen", "127.0.0.1:0", "--state", state, "--duration", "-1s"), "--duration -1s");
        Assert.False(Directory.Exists(state), "serve made its state database before it refused --duration");
    }

    [Theory]
    [InlineData("192.0.2.77:50051", "cannot listen there")]
    [InlineData("127.0.0.1:65536", "expected IP:PORT")]
    [InlineData("localhost:50051", "expected IP:PORT")]
    [InlineData("::1:50051", "expected IP:PORT")]
    public void Serve_ListenWhereItCannot_OneLineNamingTheAddressBeforeTheStateExists(string listen, string expected)
    {
        string state = _dir.File("state");
        OneLine(Nicscript("serve", "--listen", listen, "--state", state, "--duration", "1s"), "--listen " + listen, expected);
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public void Serve_StateIsAFile_OneLine() =>
        OneLine(Nicscript("serve", "--listen", "127.0.0.1:0", "--state", _dir.Write("state", "x"), "--duration", "1s"), "--state", "not a file");

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("::1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("host:50051")]
    public void Plan_TargetNotIpPort_OneLine(string target) =>
        OneLine(Nicscript("plan", Path.Combine(Repo.Root, "manifests/dpu.yml"), "--target", target), "--target " + target, "IP:PORT");

    [Theory]
    [InlineData("0")]
    [InlineData("NaN")]
    [InlineData("61")]
    public void Bench_BadSeconds_OneLine(string seconds) => OneLine(Nicscript("bench", "--seconds", seconds), "--seconds");

    // ---- the DPU state file ----

    [Theory]
    [InlineData("dip: 10.0.0.42/33")]
    [InlineData("dip: 10.0.0.42/-1")]
    [InlineData("sip: 10.0.0.0/0x21")]
    [InlineData("dip: 10.1/8")]
    [InlineData("dip: \"33\"")]
    [InlineData("dip: 10.0.0.0/255.255.255")]
    [InlineData("dip: 10.0.0.0/ffff::")]
    [InlineData("dip: 2001:db8::/129")]
    [InlineData("dip: fe80::1%eth0")]
    [InlineData("dport: \"65536\"")]
    [InlineData("dport: 80/0x1ffff")]
    [InlineData("vlan: \"4096\"")]
    [InlineData("protocol: \"256\"")]
    [InlineData("dmac: 02:00:00:00:00")]
    [InlineData("dmac: 02:00:00:00:00:01/ff:ff")]
    [InlineData("in_port: vport:70000")]
    [InlineData("ip_type: ipv5")]
    public void Plan_MatchFieldOutOfRange_OneLineAtTheField(string field)
    {
        string path = _dir.Write("dpu.yml", $"rules:\n  - key_index: 1\n    match: {{{field}}}\n    action: {{port: drop}}\n");
        OneLine(Nicscript("plan", path, "--target", "127.0.0.1:1"), path + ":3:");
    }

    [Theory]
    [InlineData("meters:\n  - {id: 1, rate: 18446744073710gbit}\n", ":2:")]
    [InlineData("ports:\n  - {uuid: a, feature_list: -1}\n", ":2:")]
    [InlineData("ports:\n  - {uuid: a, vport: 65536}\n", ":2:")]
    [InlineData("ports:\n  - {uuid: a, mtu: 0}\n", ":2:")]
    public void Plan_ValueOutOfRange_OneLineAtTheField(string body, string at)
    {
        string path = _dir.Write("dpu.yml", body);
        OneLine(Nicscript("plan", path, "--target", "127.0.0.1:1"), path + at);
    }

    // ---- metrics that are not numbers ----

    private string MetricScript(string code)
    {
        _dir.Write("m.js", code);
        return _dir.Write("m.yml", TestVNode.Manifest("metric", "  - CAP_LOG_WRITE", "m.js", metrics: "[\"m\"]"));
    }

    [Theory]
    [InlineData("metrics.set(\"m\", NaN);", "NaN")]
    [InlineData("metrics.set(\"m\", Infinity);", "Infinity")]
    [InlineData("metrics.inc(\"m\", Infinity);", "Infinity")]
    [InlineData("metrics.inc(\"m\", NaN);", "NaN")]
    [InlineData("metrics.observe(\"m\", NaN);", "NaN")]
    [InlineData("metrics.observe(\"m\", -Infinity);", "-Infinity")]
    public void Run_NonFiniteMetric_ScriptErrorWithItsLineAndValidJson(string code, string value)
    {
        var (exit, output, err) = Nicscript("run", MetricScript(code), "--json");
        Assert.Equal(1, exit);
        Assert.DoesNotContain("   at ", err);
        using JsonDocument doc = JsonDocument.Parse(output);
        string error = doc.RootElement.GetProperty("vnodes")[0].GetProperty("error").GetString()!;
        Assert.Contains("m.js:1:", error);
        Assert.Contains($"{value} is not a finite number", error);
    }

    [Fact]
    public void Run_MetricOverflowsAndResultIsNaN_JsonStaysValid()
    {
        var (exit, output, err) = Nicscript("run", MetricScript("metrics.observe(\"m\", 1e308); metrics.observe(\"m\", 1e308);\n({ a: NaN, b: -Infinity })"), "--json");
        Assert.True(exit == 0, err);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement vnode = doc.RootElement.GetProperty("vnodes")[0];
        Assert.Equal(JsonValueKind.Null, vnode.GetProperty("metrics").GetProperty("m").GetProperty("sum").ValueKind); // +Inf: JSON has none
        Assert.Equal(2, vnode.GetProperty("metrics").GetProperty("m").GetProperty("count").GetInt32());
        Assert.Equal("NaN", vnode.GetProperty("result").GetProperty("a").GetString());
        Assert.Equal("-Infinity", vnode.GetProperty("result").GetProperty("b").GetString());
    }

    [Fact]
    public void Run_NaNResultWithoutJson_PrintsTheTable()
    {
        var (exit, output, err) = Nicscript("run", MetricScript("NaN"));
        Assert.True(exit == 0, err);
        Assert.Contains("NaN", output);
    }
}
