using System.Text.Json;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Mana.Gdma;

/// <summary>
/// Every structure against the reference's field tables (gdma-fields.tsv is gdma.md §9 with arrays expanded): sizes,
/// offsets and bit positions as a decoder sees them, one rejection per reserved field, per enum-checked field and per
/// short and long buffer, and round trips of random valid instances.
/// </summary>
public sealed class GdmaLayoutTests
{
    private sealed record Row(string Type, int Size, string Key, int Byte, int Unit, int Bit, int Width, string Rule);

    private static readonly Lazy<Row[]> Rows = new(() => File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Devices/Mana/Gdma/gdma-fields.tsv"))
        .Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'))
        .Select(c => new Row(c[0], int.Parse(c[1]), c[2], int.Parse(c[3]), int.Parse(c[4]), int.Parse(c[5]), int.Parse(c[6]), c[7])).ToArray());

    public static TheoryData<string> TypeNames() => new(GdmaLayouts.All.Select(l => l.Name));

    private static GdmaLayout Layout(string name) => GdmaLayouts.TryFind(name, out GdmaLayout l) ? l : throw new ArgumentException(name);

    private static Row[] RowsOf(string type) => Rows.Value.Where(r => r.Type == type).ToArray();

    [Fact]
    public void Types_AreTheReferenceList_InOrder()
    {
        string[] expected = Rows.Value.Select(r => r.Type).Distinct().ToArray();
        Assert.Equal(53, expected.Length);
        Assert.Equal(expected, GdmaLayouts.All.Select(l => l.Name));
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Layout_MatchesReference_SizeKeysAndBits(string type)
    {
        GdmaLayout layout = Layout(type);
        Row[] rows = RowsOf(type);
        Assert.Equal(rows[0].Size, layout.Size);
        Assert.Equal(rows.Where(r => r.Rule != "Reserved").Select(r => r.Key), layout.Keys.Select(f => f.Key));

        // Every bit belongs to exactly one field (no padding in any type of the list).
        var owner = new string?[layout.Size * 8];
        foreach (Row r in rows)
            for (int b = 0; b < r.Width; b++)
            {
                int at = r.Byte * 8 + r.Bit + b;
                Assert.Null(owner[at]);
                owner[at] = r.Key;
            }
        Assert.All(owner, o => Assert.NotNull(o));

        // A field with all its bits set reads back as its maximum, and every other key reads 0.
        foreach (Row r in rows.Where(r => r.Rule != "Reserved"))
        {
            byte[] bytes = WithBits(layout.Size, r);
            foreach (GdmaField f in layout.Keys)
                Assert.Equal(f.Key == r.Key ? (r.Width == 64 ? ulong.MaxValue : (1UL << r.Width) - 1) : 0UL, f.Read(bytes));
        }
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Check_RejectsEachReservedField_EachEnumField_AndWrongLengths(string type)
    {
        GdmaLayout layout = Layout(type);
        byte[] valid = MinimalValid(layout);
        Assert.Equal(WireError.None, layout.CheckExact(valid, out _));

        foreach (Row r in RowsOf(type).Where(r => r.Rule == "Reserved"))
            for (int b = 0; b < r.Width; b++) // every single reserved bit on its own
            {
                byte[] bytes = (byte[])valid.Clone();
                int at = r.Byte * 8 + r.Bit + b;
                bytes[at / 8] |= (byte)(1 << (at % 8));
                Assert.Equal(WireError.ReservedBitsSet, layout.Check(bytes, out GdmaFault fault));
                Assert.Equal(r.Key, fault.Field.Key);
                Assert.Contains(r.Key, fault.ToString());
            }

        foreach (Row r in RowsOf(type).Where(r => r.Rule is not ("Reserved" or "Any")))
        {
            GdmaField field = layout.Keys.Single(f => f.Key == r.Key);
            ulong outside = NonMember(field);
            byte[] bytes = (byte[])valid.Clone();
            WriteRaw(bytes, r, outside);
            Assert.Equal(WireError.UnknownEnumValue, layout.Check(bytes, out GdmaFault fault));
            Assert.Equal($"{type}: {r.Key}: {outside} is not a {GdmaSets.Name(field.Rule)}", fault.ToString());
        }

        Assert.Equal(WireError.Truncated, layout.CheckExact(valid.AsSpan(0, layout.Size - 1), out _));
        Assert.Equal(WireError.Truncated, layout.CheckExact([], out _));
        Assert.Equal(WireError.TooLong, layout.CheckExact(new byte[layout.Size + 1], out _));
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void EncodeDecode_RandomValidInstances_RoundTrip(string type)
    {
        GdmaLayout layout = Layout(type);
        var rng = new Random(type.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        for (int n = 0; n < 40; n++)
        {
            var values = layout.Keys.ToDictionary(f => f.Key, f => RandomValue(rng, f, n));
            string json = JsonSerializer.Serialize(values);
            using JsonDocument doc = JsonDocument.Parse(json);
            Assert.True(GdmaJson.TryEncode(layout, doc.RootElement, out byte[] bytes, out string error), error);
            Assert.Equal(layout.Size, bytes.Length);
            Assert.Equal(WireError.None, layout.CheckExact(bytes, out _));
            foreach (GdmaField f in layout.Keys) Assert.Equal(values[f.Key], f.Read(bytes));
            foreach (GdmaField f in layout.Fields.Where(f => f.IsReserved)) Assert.Equal(0UL, f.Read(bytes));
        }
    }

    [Theory]
    [MemberData(nameof(TypeNames))]
    public void Encode_RejectsOnePastMax_ReservedKeys_UnknownKeys_AndNonIntegers(string type)
    {
        GdmaLayout layout = Layout(type);
        foreach (GdmaField f in layout.Keys.Where(f => f.Width < 64))
            Assert.False(Encode(layout, $"{{\"{f.Key}\":{f.Max + 1}}}", out string error), f.Key);
        foreach (GdmaField f in layout.Keys.Where(f => f.Width == 64))
            Assert.False(Encode(layout, $"{{\"{f.Key}\":18446744073709551616}}", out _), f.Key);
        foreach (GdmaField f in layout.Fields.Where(f => f.IsReserved))
            Assert.False(Encode(layout, $"{{\"{f.Key}\":0}}", out _), f.Key);
        Assert.False(Encode(layout, "{\"no_such_key\":1}", out _));
        GdmaField first = layout.Keys[0];
        foreach (string bad in new[] { "-1", "1.5", "1e3", "\"1\"", "true", "null", "[1]" })
            Assert.False(Encode(layout, $"{{\"{first.Key}\":{bad}}}", out _), bad);
        Assert.False(Encode(layout, "[]", out _));
    }

    [Fact]
    public void Encode_OmittedEnumWithoutZeroMember_Fails()
    {
        Assert.False(Encode(GdmaLayouts.GdmaEqeInfo, "{}", out string error));
        Assert.Equal("gdma_eqe_info: type: 0 is not a gdma_eqe_type", error);
        Assert.True(Encode(GdmaLayouts.GdmaDevId, "{}", out _)); // 0 = GDMA_DEVICE_NONE is a member
    }

    [Fact]
    public void Decode_AcceptsUpperCaseHex_RejectsMalformedHex()
    {
        Assert.True(GdmaJson.TryDecodeHex(GdmaLayouts.GdmaEqeInfo, "810003E0", out byte[] b, out string err), err);
        Assert.Equal(0xE0030081u, BitConverter.ToUInt32(b));
        Assert.False(GdmaJson.TryDecodeHex(GdmaLayouts.GdmaEqeInfo, "81000000".Insert(2, "FF"), out _, out _)); // too long
        foreach (string bad in new[] { "0x810000", "8100000", "8100 000", "810000g0", "" })
            Assert.False(GdmaJson.TryDecodeHex(GdmaLayouts.GdmaEqeInfo, bad, out _, out _), bad);
    }

    private static bool Encode(GdmaLayout layout, string json, out string error)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return GdmaJson.TryEncode(layout, doc.RootElement, out _, out error);
    }

    internal static byte[] MinimalValid(GdmaLayout layout)
    {
        var bytes = new byte[layout.Size];
        foreach (GdmaField f in layout.Keys.Where(f => f.Rule != GdmaRule.Any))
            Assert.Equal(WireError.None, layout.TryWrite(bytes, f, Members(f.Rule)[0], out _));
        return bytes;
    }

    private static readonly Dictionary<GdmaRule, ulong[]> MemberCache = Enum.GetValues<GdmaRule>()
        .ToDictionary(r => r, r => Enumerable.Range(0, 0x30000).Select(v => (ulong)v).Where(v => GdmaSets.Contains(r, v)).ToArray());

    internal static ulong[] Members(GdmaRule rule) => MemberCache[rule];

    private static ulong RandomValue(Random rng, GdmaField f, int n)
    {
        if (f.Rule != GdmaRule.Any)
        {
            ulong[] m = Members(f.Rule);
            return m[n == 0 ? 0 : n == 1 ? m.Length - 1 : rng.Next(m.Length)];
        }
        if (n == 0) return 0;
        if (n == 1) return f.Max;
        Span<byte> raw = stackalloc byte[8];
        rng.NextBytes(raw);
        return BitConverter.ToUInt64(raw) & f.Max;
    }

    private static ulong NonMember(GdmaField f)
    {
        for (ulong v = 0; v <= f.Max; v++)
            if (!GdmaSets.Contains(f.Rule, v)) return v;
        throw new InvalidOperationException("every value is a member");
    }

    private static byte[] WithBits(int size, Row r)
    {
        var bytes = new byte[size];
        WriteRaw(bytes, r, r.Width == 64 ? ulong.MaxValue : (1UL << r.Width) - 1);
        return bytes;
    }

    private static void WriteRaw(byte[] bytes, Row r, ulong value)
    {
        for (int b = 0; b < r.Width; b++)
        {
            int at = r.Byte * 8 + r.Bit + b;
            if ((value >> b & 1) != 0) bytes[at / 8] |= (byte)(1 << (at % 8));
            else bytes[at / 8] &= (byte)~(1 << (at % 8));
        }
    }
}
