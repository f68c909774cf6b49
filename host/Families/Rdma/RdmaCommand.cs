using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NicScript.Driver.Devices.Rdma;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Rdma;

/// <summary><c>nicscript rdma inspect</c>: a RoCEv2 frame (hex, as tshark or a capture shows it) to its BTH fields and ICRC verdict.</summary>
/// <remarks>
/// Single mode prints one line per HEX argument and exits 1 when any is not RoCEv2 or its ICRC is wrong; <c>--jsonl</c>
/// answers each stdin line <c>{"hex": …}</c> with one JSON line, in order, and always exits 0 (reference/rdma.md §6–§7).
/// It also reads what tshark prints for a capture: <c>tshark -T ek -x</c> lines (the frame in <c>layers.frame_raw</c>; the
/// <c>{"index": …}</c> line before each is not a frame and gets no answer) and plain hex lines, one frame each.
/// </remarks>
public sealed class RdmaCommand
{
    private readonly CliContext _cli;

    public RdmaCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var hex = new Argument<string[]>("hex") { Description = "Whole frames as hex, from the Ethernet header (a VLAN tag and padding are fine).", Arity = ArgumentArity.ZeroOrMore };
        var jsonl = new Option<bool>("--jsonl") { Description = "Read frames from stdin, one a line: {\"hex\": …}, tshark -T ek -x output, or plain hex; answer each with one JSON line." };
        var inspect = new Command("inspect", """
            Decode RoCEv2 frames: opcode, destination QP, PSN, pad count, and the ICRC computed (8 hex digits in wire
            byte order) against the one the frame carries.

            Examples:
              nicscript rdma inspect e41d2dab2bc27cfe90643b32080045c2003c718c4000401191610a0011010a001201000012b7002800008100ffff40000118000000000000000000000000000000000000000082fd002a
              tshark -r rdma.pcap -T ek -x | nicscript rdma inspect --jsonl     # a capture of nicscript run --pcap rdma.pcap
            """)
        { hex, jsonl };
        inspect.SetAction(p => new RdmaCommand(cli).Inspect(p.GetValue(hex) ?? [], p.GetValue(jsonl)));
        return new Command("rdma", "RoCEv2 tools: inspect frames from a capture.") { inspect };
    }

    public int Inspect(string[] frames, bool batch)
    {
        if (batch)
        {
            if (frames.Length > 0) throw new UserErrorException("error: rdma inspect --jsonl reads its input from stdin; give no HEX");
            while (_cli.Input.ReadLine() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                string? text = null, problem = null;
                if (line.TrimStart().StartsWith('{'))
                {
                    try
                    {
                        using JsonDocument doc = JsonDocument.Parse(line);
                        JsonElement root = doc.RootElement;
                        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("hex", out JsonElement h) && h.ValueKind == JsonValueKind.String)
                            text = h.GetString();
                        else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("index", out _) && root.EnumerateObject().Count() == 1)
                            continue; // tshark -T ek: the bulk-index line before each frame
                        else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("layers", out JsonElement layers) && layers.ValueKind == JsonValueKind.Object
                                 && layers.TryGetProperty("frame_raw", out JsonElement raw) && raw.ValueKind == JsonValueKind.String)
                            text = raw.GetString();
                        else problem = "the line has no \"hex\" string";
                    }
                    catch (JsonException)
                    {
                        problem = "the line is not JSON";
                    }
                }
                else text = line; // a plain hex line; Decode says when it is not hex
                _cli.OutputText.WriteLine(Json(text, problem));
            }
            return 0;
        }
        if (frames.Length == 0) throw new UserErrorException("error: rdma inspect needs HEX (or --jsonl)");
        bool allGood = true;
        foreach (string f in frames)
        {
            Result r = Decode(f, null);
            if (r.Error is { } e)
            {
                _cli.OutputText.WriteLine("error: " + e);
                allGood = false;
                continue;
            }
            _cli.OutputText.WriteLine($"{r.OpcodeName} (0x{r.Opcode:x2}) dqpn 0x{r.Dqpn:x6} psn {r.Psn} padcnt {r.PadCnt} icrc {r.Icrc} {(r.IcrcOk ? "ok" : $"BAD (frame carries {r.Carried})")}");
            allGood &= r.IcrcOk;
        }
        return allGood ? 0 : 1;
    }

    private readonly record struct Result(string? Error, byte Opcode, string OpcodeName, uint Dqpn, uint Psn, int PadCnt, string Icrc, string Carried, bool IcrcOk);

    private static Result Decode(string? text, string? problem)
    {
        if (problem is not null) return new Result(problem, 0, "", 0, 0, 0, "", "", false);
        string digits = string.Concat((text ?? "").Where(c => !char.IsWhiteSpace(c) && c != ':'));
        if (digits.Length % 2 != 0 || !digits.All(char.IsAsciiHexDigit)) return new Result("not hex (pairs of 0-9a-f)", 0, "", 0, 0, 0, "", "", false);
        byte[] f = Convert.FromHexString(digits);
        if (RoceV2.Parse(f, out string? error) is not { } l) return new Result("not RoCEv2: " + error, 0, "", 0, 0, 0, "", "", false);
        uint icrc = RoceV2.Icrc(f, l), carried = RoceV2.StoredIcrc(f, l);
        ReadOnlySpan<byte> bth = f.AsSpan(l.BthAt);
        return new Result(null, l.Opcode, RoceV2.OpcodeName(l.Opcode), BinaryPrimitives.ReadUInt32BigEndian(bth[4..]) & 0xFFFFFF,
            BinaryPrimitives.ReadUInt32BigEndian(bth[8..]) & 0xFFFFFF, l.PadCount, Wire(icrc), Wire(carried), icrc == carried);
    }

    /// <summary>The ICRC as its 4 bytes appear on the wire (least significant first).</summary>
    private static string Wire(uint icrc)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, icrc);
        return Convert.ToHexStringLower(b);
    }

    private static string Json(string? text, string? problem)
    {
        Result r = Decode(text, problem);
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, CliJson.Writer))
        {
            w.WriteStartObject();
            if (r.Error is { } e) w.WriteString("error", e);
            else
            {
                w.WriteNumber("opcode", r.Opcode);
                w.WriteString("opcode_name", r.OpcodeName);
                w.WriteNumber("dqpn", r.Dqpn);
                w.WriteNumber("psn", r.Psn);
                w.WriteNumber("padcnt", r.PadCnt);
                w.WriteString("icrc", r.Icrc);
                w.WriteBoolean("icrc_ok", r.IcrcOk);
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
