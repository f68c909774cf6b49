using System.Buffers.Binary;
using System.Text.Json;
using NicScript.Host.Cli;
using NicScript.Host.Tests.EndToEnd;
using Spectre.Console;

namespace NicScript.Host.Tests.Capabilities.Rdma;

/// <summary><c>nicscript run manifests/rdma-pair.yml</c>: the seed's example against a real remote V-Node; the capture; a lossy wire.</summary>
public sealed class RdmaPairTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(int Exit, string Out, string Log)> Run(string? input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        var cli = new CliContext(console, output, error, input is null ? null : new StringReader(input));
        int exit = await Program.RunAsync(cli, args);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("manifests/rdma-pair.yml")]
    [InlineData("manifests/rdma-pair-cs.yml")]
    public async Task The_pair_writes_and_sends_and_both_sides_say_what_they_saw(string system)
    {
        var (exit, _, log) = await Run(null, "run", Path.Combine(Repo.Root, system), "--cache", _dir.Path);
        Assert.True(exit == 0, log);
        Assert.Contains("RDMA write completed successfully! (wr_id 0, 12 bytes)", log);
        Assert.Contains("RDMA send completed successfully! (wr_id 1, 32 bytes)", log);
        Assert.Contains("RDMA WRITE placed \"Test message\" in my buffer; SEND delivered \"Hello from ::ffff:192.0.2.1\" (32 bytes)", log);
    }

    [Fact]
    public async Task The_capture_decodes_as_roce_in_order_and_every_icrc_checks()
    {
        string pcap = Path.Combine(_dir.Path, "rdma.pcap");
        var (exit, _, log) = await Run(null, "run", Path.Combine(Repo.Root, "manifests/rdma-pair.yml"), "--pcap", pcap, "--cache", _dir.Path);
        Assert.True(exit == 0, log);
        List<byte[]> frames = ReadPcap(pcap);
        Assert.Equal(4, frames.Count);
        string input = string.Join('\n', frames.Select(f => JsonSerializer.Serialize(new { hex = Convert.ToHexString(f) })));
        var (inspectExit, lines, _) = await Run(input, "rdma", "inspect", "--jsonl");
        Assert.Equal(0, inspectExit);
        var results = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.True(r.GetProperty("icrc_ok").GetBoolean(), r.ToString()));
        Assert.Equal(["RC_RDMA_WRITE_ONLY", "RC_SEND_ONLY", "RC_ACKNOWLEDGE", "RC_ACKNOWLEDGE"], results.Select(r => r.GetProperty("opcode_name").GetString()));
        if (NetNamespace.Which("tshark") is null) return; // .ci/run installs it; the byte-level checks above still ran
        NetNamespace.Result t = NetNamespace.Run("tshark", "-r", pcap, "-d", "udp.port==4791,infiniband", "-T", "fields", "-e", "infiniband.bth.opcode", "-e", "infiniband.bth.psn");
        Assert.Equal(0, t.ExitCode);
        Assert.Equal(["10\t0", "4\t1", "17\t0", "17\t1"], t.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
        // What tshark prints for the capture goes straight into inspect (rdma inspect --help's example).
        NetNamespace.Result ek = NetNamespace.Run("tshark", "-r", pcap, "-T", "ek", "-x");
        Assert.Equal(0, ek.ExitCode);
        var (ekExit, ekLines, _) = await Run(ek.Output, "rdma", "inspect", "--jsonl");
        Assert.Equal(0, ekExit);
        Assert.Equal(["RC_RDMA_WRITE_ONLY", "RC_SEND_ONLY", "RC_ACKNOWLEDGE", "RC_ACKNOWLEDGE"],
            ekLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("opcode_name").GetString()));
    }

    [Fact]
    public async Task Five_percent_drop_still_completes_and_the_counters_show_retransmissions()
    {
        var (exit, output, log) = await Run(null, "run", Path.Combine(Repo.Root, "manifests/rdma-pair.yml"), "--faults", "drop=0.05,seed=11", "--json", "--cache", _dir.Path);
        Assert.True(exit == 0, log);
        JsonElement rdma = JsonDocument.Parse(output).RootElement.GetProperty("rdma");
        Assert.Equal(2, rdma.GetArrayLength());
        Assert.All(rdma.EnumerateArray(), d => Assert.True(d.GetProperty("tx_frames").GetInt64() > 0));
    }

    [Fact]
    public async Task Inspect_says_why_a_frame_is_not_roce_and_fails_a_bad_icrc()
    {
        const string cnp = "e41d2dab2bc27cfe90643b32080045c2003c718c4000401191610a0011010a001201000012b7002800008100ffff40000118000000000000000000000000000000000000000082fd002a";
        var (ok, line, _) = await Run(null, "rdma", "inspect", cnp);
        Assert.Equal(0, ok);
        Assert.Equal("CNP (0x81) dqpn 0x000118 psn 0 padcnt 0 icrc 82fd002a ok", line.Trim());
        var (bad, badLine, _) = await Run(null, "rdma", "inspect", cnp[..^2] + "2b");
        Assert.Equal(1, bad);
        Assert.Contains("BAD (frame carries 82fd002b)", badLine);
        var (notRoce, notLine, _) = await Run(null, "rdma", "inspect", cnp.Replace("12b7", "12b8"));
        Assert.Equal(1, notRoce);
        Assert.Contains("error: not RoCEv2: UDP destination port is not 4791", notLine);
        var (batch, lines, _) = await Run("{\"hex\":\"zz\"}\n{\"nohex\":1}\n{\"hex\":\"" + cnp + "\"}\n", "rdma", "inspect", "--jsonl");
        Assert.Equal(0, batch);
        Assert.Equal(["{\"error\":\"not hex (pairs of 0-9a-f)\"}", "{\"error\":\"the line has no \\\"hex\\\" string\"}",
            "{\"opcode\":129,\"opcode_name\":\"CNP\",\"dqpn\":280,\"psn\":0,\"padcnt\":0,\"icrc\":\"82fd002a\",\"icrc_ok\":true}"],
            lines.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // A plain hex line, and tshark -T ek -x's pair of lines (the index line gets no answer), are frames too.
        var (plain, plainLines, _) = await Run(cnp + "\n{\"index\":{\"_index\":\"packets\"}}\n{\"timestamp\":\"1\",\"layers\":{\"frame_raw\":\"" + cnp + "\"}}\nxyz\n", "rdma", "inspect", "--jsonl");
        Assert.Equal(0, plain);
        string[] answers = plainLines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, answers.Length);
        Assert.All(answers[..2], a => Assert.Contains("\"opcode_name\":\"CNP\"", a));
        Assert.Equal("{\"error\":\"not hex (pairs of 0-9a-f)\"}", answers[2]);
    }

    /// <summary>The frames of a classic pcap file (24-byte header, 16-byte record headers).</summary>
    private static List<byte[]> ReadPcap(string path)
    {
        byte[] all = File.ReadAllBytes(path);
        var frames = new List<byte[]>();
        for (int at = 24; at + 16 <= all.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at + 8));
            frames.Add(all.AsSpan(at + 16, length).ToArray());
            at += 16 + length;
        }
        return frames;
    }
}
