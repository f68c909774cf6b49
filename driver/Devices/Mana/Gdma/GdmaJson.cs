using System.Globalization;
using System.Text.Json;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>The JSON side of the codec (gdma.md §8.2–8.3): one flat object per structure, keys in declaration order.</summary>
public static class GdmaJson
{
    /// <summary>Decodes lowercase or uppercase hex of exactly the type's size; on failure <paramref name="error"/> is one line.</summary>
    public static bool TryDecodeHex(GdmaLayout layout, string hex, out byte[] bytes, out string error)
    {
        bytes = [];
        error = "";
        foreach (char c in hex)
            if (!char.IsAsciiHexDigit(c))
            {
                error = $"{layout.Name}: hex: '{c}' is not a hex digit (0-9, a-f, no 0x, no spaces)";
                return false;
            }
        if (hex.Length % 2 != 0)
        {
            error = $"{layout.Name}: hex: odd number of digits ({hex.Length})";
            return false;
        }
        bytes = Convert.FromHexString(hex);
        if (layout.CheckExact(bytes, out GdmaFault fault) != WireError.None)
        {
            error = fault.ToString();
            return false;
        }
        return true;
    }

    /// <summary>Writes the decoded fields of <paramref name="bytes"/> (already checked) as one flat object.</summary>
    public static void WriteFields(Utf8JsonWriter json, GdmaLayout layout, ReadOnlySpan<byte> bytes)
    {
        json.WriteStartObject();
        foreach (GdmaField f in layout.Keys) json.WriteNumber(f.Key, f.Read(bytes));
        json.WriteEndObject();
    }

    /// <summary>Encodes a JSON object of fields; a missing key counts as 0, every value is range- and set-checked.</summary>
    public static bool TryEncode(GdmaLayout layout, JsonElement fields, out byte[] bytes, out string error)
    {
        bytes = new byte[layout.Size];
        error = "";
        if (fields.ValueKind != JsonValueKind.Object)
        {
            error = $"{layout.Name}: fields must be a JSON object, not {fields.ValueKind.ToString().ToLowerInvariant()}";
            return false;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty p in fields.EnumerateObject())
        {
            if (!layout.TryFindKey(p.Name, out GdmaField field))
            {
                bool reserved = layout.Fields.Any(f => f.IsReserved && f.Key == p.Name);
                error = reserved ? $"{layout.Name}: {p.Name}: a reserved field is not a key (it is always 0)" : $"{layout.Name}: {p.Name}: unknown key";
                return false;
            }
            if (!seen.Add(p.Name))
            {
                error = $"{layout.Name}: {p.Name}: given twice";
                return false;
            }
            if (!TryUnsigned(p.Value, out ulong value))
            {
                error = $"{layout.Name}: {p.Name}: {p.Value.GetRawText()} is not an unsigned integer of at most 64 bits";
                return false;
            }
            if (layout.TryWrite(bytes, field, value, out GdmaFault fault) != WireError.None)
            {
                error = fault.ToString();
                return false;
            }
        }
        if (layout.Check(bytes, out GdmaFault missing) != WireError.None)
        {
            error = missing.ToString();
            return false;
        }
        return true;
    }

    /// <summary>An integer literal with no sign, fraction or exponent that fits 64 bits.</summary>
    public static bool TryUnsigned(JsonElement value, out ulong result)
    {
        result = 0;
        if (value.ValueKind != JsonValueKind.Number) return false;
        string raw = value.GetRawText();
        foreach (char c in raw)
            if (c is < '0' or > '9') return false;
        return ulong.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out result);
    }
}
