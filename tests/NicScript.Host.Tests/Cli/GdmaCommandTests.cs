using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript gdma</c> through the command line, as the reference's CLI contract states it (gdma.md §8.4).</summary>
public sealed class GdmaCommandTests
{
    private static (int Exit, string Out, string Err) Nicscript(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        int exit = Program.RunAsync(new CliContext(console, output, error, new StringReader(stdin)), args).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Types_Prints53Names_InOrder()
    {
        var (exit, output, _) = Nicscript("", "gdma", "types");
        Assert.Equal(0, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(53, lines.Length);
        Assert.Equal("gdma_doorbell_entry.cq", lines[0]);
        Assert.Equal("gdma_eqe_info", lines[17]);
        Assert.Equal("mana_destroy_wqobj_resp", lines[52]);
    }

    [Fact]
    public void Decode_PrintsOneFlatObject()
    {
        var (exit, output, _) = Nicscript("", "gdma", "decode", "gdma_cqe", new string('0', 120) + "050000A1");
        Assert.Equal(0, exit);
        Assert.Single(output.TrimEnd().Split('\n'));
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(5u, doc.RootElement.GetProperty("cqe_info.wq_num").GetUInt32());
        Assert.Equal(1u, doc.RootElement.GetProperty("cqe_info.is_sq").GetUInt32());
        Assert.Equal(5u, doc.RootElement.GetProperty("cqe_info.owner_bits").GetUInt32());
        Assert.Equal(0u, doc.RootElement.GetProperty("cqe_data[14]").GetUInt32());
        Assert.False(doc.RootElement.TryGetProperty("cqe_info.reserved", out _));
    }

    [Theory]
    [InlineData("gdma_eqe_info", "00000000", "error: gdma_eqe_info: type: 0 is not a gdma_eqe_type")]
    [InlineData("gdma_wqe", "0100000000000000", "error: gdma_wqe: reserved: reserved bits 0-23 of byte 0 must be zero (0x1)")]
    [InlineData("gdma_dev_id", "020001", "error: gdma_dev_id: 3 bytes, expected 4")]
    [InlineData("gdma_dev_id", "0200010000", "error: gdma_dev_id: 5 bytes, expected 4")]
    [InlineData("gdma_dev_id", "0x020001", "error: gdma_dev_id: hex: 'x' is not a hex digit (0-9, a-f, no 0x, no spaces)")]
    [InlineData("gdma_doorbell_entry.dim", "00", "error: gdma_doorbell_entry.dim: unknown type (see `nicscript gdma types`)")]
    [InlineData("GDMA_DEV_ID", "02000100", "error: GDMA_DEV_ID: unknown type (see `nicscript gdma types`)")]
    public void Decode_Rejected_ExitsOneWithOneLineNamingTheField(string type, string hex, string message)
    {
        var (exit, output, error) = Nicscript("", "gdma", "decode", type, hex);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal(message, error.TrimEnd());
    }

    [Fact]
    public void Encode_PrintsLowercaseHex_AndRejectsBadFields()
    {
        Assert.Equal((0, "0300000000020080"), Trim(Nicscript("", "gdma", "encode", "gdma_doorbell_entry.cq", """{"id":3,"tail_ptr":512,"arm":1}""")));
        Assert.Equal((0, "02000100"), Trim(Nicscript("", "gdma", "encode", "gdma_dev_id", """{"type":2,"instance":1}""")));
        foreach (string bad in new[] { """{"arm":2}""", """{"reserved":0}""", """{"as_uint64":1}""", """{"id":-1}""", """{"id":"3"}""", "[]", "{" })
        {
            var (exit, output, error) = Nicscript("", "gdma", "encode", "gdma_doorbell_entry.cq", bad);
            Assert.Equal(1, exit);
            Assert.Equal("", output);
            Assert.StartsWith("error: gdma_doorbell_entry.cq: ", error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void DecodeJsonl_AnswersEveryLine_InOrder_ExitsZero()
    {
        string input = string.Join('\n',
            """{"type":"gdma_dev_id","hex":"02000100","note":"ignored"}""",
            "",
            """{"type":"gdma_eqe_info","hex":"00000000"}""",
            "not json",
            """{"type":"gdma_cqe","hex":"00"}""",
            """{"type":7,"hex":"00"}""");
        var (exit, output, _) = Nicscript(input, "gdma", "decode", "--jsonl");
        Assert.Equal(0, exit);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.Equal("""{"type":"gdma_dev_id","fields":{"type":2,"instance":1}}""", lines[0]);
        Assert.Equal("""{"type":"gdma_eqe_info","error":"gdma_eqe_info: type: 0 is not a gdma_eqe_type"}""", lines[1]);
        Assert.StartsWith("""{"type":null,"error":""", lines[2]);
        Assert.StartsWith("""{"type":"gdma_cqe","error":""", lines[3]);
        Assert.StartsWith("""{"type":7,"error":""", lines[4]);
    }

    [Fact]
    public void EncodeJsonl_AnswersEveryLine_AndRoundTripsThroughDecode()
    {
        string input = string.Join('\n',
            """{"type":"mana_tx_short_oob","fields":{"pkt_fmt":0,"vcq_num":9,"vsq_frame":3}}""",
            """{"type":"gdma_eqe_info","fields":{}}""",
            """{"type":"gdma_sge","fields":{"address":18446744073709551615,"mem_key":7,"size":64}}""");
        var (exit, output, _) = Nicscript(input, "gdma", "encode", "--jsonl");
        Assert.Equal(0, exit);
        string[] lines = output.TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains("\"error\"", lines[1]);
        using JsonDocument sge = JsonDocument.Parse(lines[2]);
        string hex = sge.RootElement.GetProperty("hex").GetString()!;
        Assert.Equal("ffffffffffffffff0700000040000000", hex);
        var (_, decoded, _) = Nicscript("", "gdma", "decode", "gdma_sge", hex);
        Assert.Equal("""{"address":18446744073709551615,"mem_key":7,"size":64}""", decoded.TrimEnd());
    }

    private static (int, string) Trim((int Exit, string Out, string Err) r) => (r.Exit, r.Out.TrimEnd());
}
