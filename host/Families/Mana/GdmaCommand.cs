using System.CommandLine;
using System.Text;
using System.Text.Json;
using NicScript.Driver.Devices.Mana.Gdma;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Mana;

/// <summary><c>nicscript gdma types | decode | encode</c>: the MANA/GDMA wire codec at the command line (gdma.md §8.4).</summary>
/// <remarks>
/// Single mode prints one line of JSON (decode) or lowercase hex (encode) and exits 0, or one line naming the type and
/// the failing key or rule and exits 1. Batch mode (<c>--jsonl</c>) answers every stdin line with one line, in order,
/// and always exits 0.
/// </remarks>
public sealed class GdmaCommand
{
    private readonly CliContext _cli;

    public GdmaCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var types = new Command("types", "Print the 53 structure names, one per line, in the reference's order.");
        types.SetAction(_ => new GdmaCommand(cli).Types());

        var dType = new Argument<string?>("type") { Description = "A structure name from `gdma types` (union variants after a dot).", Arity = ArgumentArity.ZeroOrOne };
        var dHex = new Argument<string?>("hex") { Description = "The structure's bytes as hex, exactly its size.", Arity = ArgumentArity.ZeroOrOne };
        var dBatch = new Option<bool>("--jsonl") { Description = "Read {\"type\":…,\"hex\":…} lines from stdin; answer each with one line." };
        var decode = new Command("decode", """
            Decode a structure to one flat JSON object with the Linux field names.

            Examples:
              nicscript gdma decode gdma_eqe_info 81000000
              nicscript gdma decode --jsonl < vectors.jsonl
            """)
        { dType, dHex, dBatch };
        decode.SetAction(p => new GdmaCommand(cli).Decode(p.GetValue(dType), p.GetValue(dHex), p.GetValue(dBatch)));

        var eType = new Argument<string?>("type") { Description = "A structure name from `gdma types`.", Arity = ArgumentArity.ZeroOrOne };
        var eJson = new Argument<string?>("json") { Description = "The fields as a JSON object; a missing key counts as 0.", Arity = ArgumentArity.ZeroOrOne };
        var eBatch = new Option<bool>("--jsonl") { Description = "Read {\"type\":…,\"fields\":{…}} lines from stdin; answer each with one line." };
        var encode = new Command("encode", """
            Encode a structure from a JSON object of its fields; prints lowercase hex of exactly its size.

            Examples:
              nicscript gdma encode gdma_doorbell_entry.cq '{"id":3,"tail_ptr":512,"arm":1}'
              nicscript gdma encode --jsonl < fields.jsonl
            """)
        { eType, eJson, eBatch };
        encode.SetAction(p => new GdmaCommand(cli).Encode(p.GetValue(eType), p.GetValue(eJson), p.GetValue(eBatch)));

        return new Command("gdma", "The MANA/GDMA wire codec: list, decode and encode the Linux driver's HW DATA structures.") { types, decode, encode };
    }

    public int Types()
    {
        foreach (GdmaLayout l in GdmaLayouts.All) _cli.OutputText.WriteLine(l.Name);
        return 0;
    }

    public int Decode(string? type, string? hex, bool batch)
    {
        if (batch)
        {
            if (type is not null) throw new UserErrorException("error: gdma decode --jsonl reads its input from stdin; give no TYPE or HEX");
            return Batch("hex", DecodeOne);
        }
        if (type is null || hex is null) throw new UserErrorException("error: gdma decode needs TYPE and HEX (or --jsonl)");
        if (!DecodeOne(type, hex, out string json, out string error)) throw new UserErrorException("error: " + error);
        _cli.OutputText.WriteLine(json);
        return 0;
    }

    public int Encode(string? type, string? fields, bool batch)
    {
        if (batch)
        {
            if (type is not null) throw new UserErrorException("error: gdma encode --jsonl reads its input from stdin; give no TYPE or JSON");
            return Batch("fields", EncodeOne);
        }
        if (type is null || fields is null) throw new UserErrorException("error: gdma encode needs TYPE and JSON (or --jsonl)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(fields);
        }
        catch (JsonException e)
        {
            throw new UserErrorException($"error: {type}: fields are not JSON: {e.Message}");
        }
        using (doc)
        {
            if (!EncodeOne(type, doc.RootElement, out string hex, out string error)) throw new UserErrorException("error: " + error);
            _cli.OutputText.WriteLine(hex);
        }
        return 0;
    }

    private static bool DecodeOne(string type, string hex, out string json, out string error)
    {
        json = "";
        if (!GdmaLayouts.TryFind(type, out GdmaLayout layout))
        {
            error = $"{type}: unknown type (see `nicscript gdma types`)";
            return false;
        }
        if (!GdmaJson.TryDecodeHex(layout, hex, out byte[] bytes, out error)) return false;
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, CliJson.Writer)) GdmaJson.WriteFields(w, layout, bytes);
        json = Encoding.UTF8.GetString(buffer.ToArray());
        return true;
    }

    private static bool DecodeOne(string type, JsonElement hex, out string json, out string error)
    {
        json = "";
        if (hex.ValueKind != JsonValueKind.String)
        {
            error = $"{type}: \"hex\" must be a string";
            return false;
        }
        return DecodeOne(type, hex.GetString()!, out json, out error);
    }

    private static bool EncodeOne(string type, JsonElement fields, out string hex, out string error)
    {
        hex = "";
        if (!GdmaLayouts.TryFind(type, out GdmaLayout layout))
        {
            error = $"{type}: unknown type (see `nicscript gdma types`)";
            return false;
        }
        if (!GdmaJson.TryEncode(layout, fields, out byte[] bytes, out error)) return false;
        hex = Convert.ToHexStringLower(bytes);
        return true;
    }

    private delegate bool OneLine(string type, JsonElement input, out string result, out string error);

    /// <summary>Reads stdin to the end; every non-empty line gets exactly one answer line, and the exit code is 0.</summary>
    private int Batch(string inputKey, OneLine one)
    {
        string resultKey = inputKey == "hex" ? "fields" : "hex";
        while (_cli.Input.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, CliJson.Writer))
            {
                w.WriteStartObject();
                JsonDocument? doc = null;
                try
                {
                    doc = JsonDocument.Parse(line);
                }
                catch (JsonException)
                {
                }
                using (doc)
                {
                    if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        w.WriteNull("type");
                        w.WriteString("error", doc is null ? "the line is not JSON" : "the line is not a JSON object");
                    }
                    else
                    {
                        JsonElement root = doc.RootElement;
                        bool hasType = root.TryGetProperty("type", out JsonElement typeElement);
                        w.WritePropertyName("type");
                        if (hasType) typeElement.WriteTo(w);
                        else w.WriteNullValue();
                        if (!hasType || typeElement.ValueKind != JsonValueKind.String)
                            w.WriteString("error", "\"type\" must be a string naming a structure");
                        else if (!root.TryGetProperty(inputKey, out JsonElement input))
                            w.WriteString("error", $"{typeElement.GetString()}: the line has no \"{inputKey}\"");
                        else if (one(typeElement.GetString()!, input, out string result, out string error))
                        {
                            w.WritePropertyName(resultKey);
                            if (resultKey == "fields") w.WriteRawValue(result);
                            else w.WriteStringValue(result);
                        }
                        else w.WriteString("error", error);
                    }
                }
                w.WriteEndObject();
            }
            _cli.OutputText.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        return 0;
    }
}
