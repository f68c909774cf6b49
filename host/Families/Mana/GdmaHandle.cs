using System.Globalization;
using System.Text;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Wire;

using NicScript.Host.Capabilities;

namespace NicScript.Host.Families.Mana;

/// <summary>The <c>gdma</c> global: the MANA/GDMA wire codec over the V-Node's own DMA buffers (gdma.md §8, one table with the CLI).</summary>
/// <remarks>
/// Keys are the Linux field names (<c>hdr.req.msg_type</c>, <c>cqe_info.owner_bits</c>) in both languages; fields to
/// encode are a typed map of names to values: a C# <c>Dictionary&lt;string, ulong&gt;</c>, or a JavaScript object that the
/// script marshaller turns into one (each value a whole number, 0..2^53). Encoding zeroes the structure first and
/// checks every key against the structure and every value against its field's width and set, so C# and JavaScript get
/// the same errors; decoding refuses a structure whose reserved bits are set or whose enum fields are out of their set,
/// with the reason. The codec touches only buffers the V-Node owns (the buffer checks), so it needs no capability of its own.
/// </remarks>
public sealed class GdmaHandle
{
    /// <summary>The 53 structure names.</summary>
    [ScriptApi] public string[] Types => GdmaLayouts.All.Select(l => l.Name).ToArray();

    /// <summary>Bytes of <paramref name="type"/>.</summary>
    [ScriptApi] public int Size(string type) => Layout(type).Size;

    /// <summary>Writes <paramref name="type"/> with <paramref name="fields"/> at <paramref name="offset"/> of <paramref name="buffer"/> (missing keys are 0).</summary>
    [ScriptApi]
    public void Encode(DmaBuffer buffer, int offset, string type, IReadOnlyDictionary<string, ulong> fields)
    {
        GdmaLayout layout = Layout(type);
        Span<byte> bytes = stackalloc byte[layout.Size];
        EncodeInto(layout, fields, bytes);
        buffer.Write(offset, bytes.ToArray());
    }

    /// <summary>The encoded bytes of <paramref name="type"/> (for a doorbell: <c>pci.writeBarBytes(0, off, gdma.encodeBytes(...))</c>).</summary>
    [ScriptApi]
    public byte[] EncodeBytes(string type, IReadOnlyDictionary<string, ulong> fields)
    {
        GdmaLayout layout = Layout(type);
        var bytes = new byte[layout.Size];
        EncodeInto(layout, fields, bytes);
        return bytes;
    }

    /// <summary>Decodes <paramref name="type"/> at <paramref name="offset"/>; a reserved bit set or an enum out of its set is an error naming the field.</summary>
    [ScriptApi]
    public GdmaFields Decode(DmaBuffer buffer, int offset, string type)
    {
        GdmaLayout layout = Layout(type);
        byte[] bytes = buffer.Read(offset, layout.Size);
        if (layout.Check(bytes, out GdmaFault fault) != WireError.None) throw new ScriptCallException($"gdma.decode: {fault}");
        return new GdmaFields(layout, bytes);
    }

    /// <summary>Null if the bytes at <paramref name="offset"/> are a valid <paramref name="type"/>, else the reason.</summary>
    [ScriptApi]
    public string? Check(DmaBuffer buffer, int offset, string type)
    {
        GdmaLayout layout = Layout(type);
        return layout.Check(buffer.Read(offset, layout.Size), out GdmaFault fault) == WireError.None ? null : fault.ToString();
    }

    private static GdmaLayout Layout(string type) =>
        GdmaLayouts.TryFind(type, out GdmaLayout layout) ? layout : throw new ScriptCallException($"gdma: unknown type \"{type}\" (see `nicscript gdma types`)");

    private static void EncodeInto(GdmaLayout layout, IReadOnlyDictionary<string, ulong> fields, Span<byte> bytes)
    {
        if (fields is null) throw new ScriptCallException($"gdma.encode: {layout.Name}: fields are needed (an empty dictionary for all zeros)");
        bytes.Clear();
        foreach (var (key, value) in fields)
        {
            if (!layout.TryFindKey(key, out GdmaField field))
                throw new ScriptCallException(layout.Fields.Any(f => f.IsReserved && f.Key == key)
                    ? $"gdma.encode: {layout.Name}: {key} is reserved: it is always 0, not a key"
                    : $"gdma.encode: {layout.Name} has no field \"{key}\"");
            if (layout.TryWrite(bytes, field, value, out GdmaFault fault) != WireError.None) throw new ScriptCallException($"gdma.encode: {fault}");
        }
        if (layout.Check(bytes, out GdmaFault missing) != WireError.None) throw new ScriptCallException($"gdma.encode: {missing}");
    }
}

/// <summary>A decoded structure: its Linux field names and values (<c>f.get("cqe_info.wq_num")</c>, <c>f["cqe_info.wq_num"]</c> in C#).</summary>
public sealed class GdmaFields
{
    private readonly GdmaLayout _layout;
    private readonly byte[] _bytes;

    internal GdmaFields(GdmaLayout layout, byte[] bytes)
    {
        _layout = layout;
        _bytes = bytes;
    }

    [ScriptApi] public string Type => _layout.Name;

    [ScriptApi] public string[] Keys => _layout.Keys.Select(f => f.Key).ToArray();

    /// <summary>The value of <paramref name="key"/> (exact up to 2^53 in JavaScript).</summary>
    [ScriptApi]
    public double Get(string key) =>
        _layout.TryFindKey(key, out GdmaField f) ? f.Read(_bytes) : throw new ScriptCallException($"{_layout.Name} has no field \"{key}\"");

    [ScriptApi] public double this[string key] => Get(key);

    /// <summary>Key/value pairs in declaration order, for display.</summary>
    public IEnumerable<(string Key, ulong Value)> Pairs => _layout.Keys.Select(f => (f.Key, f.Read(_bytes)));

    /// <summary>One flat JSON object, as <c>nicscript gdma decode</c> prints it.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("{");
        foreach (var (k, v) in Pairs) sb.Append(sb.Length > 1 ? "," : "").Append('"').Append(k).Append("\":").Append(v.ToString(CultureInfo.InvariantCulture));
        return sb.Append('}').ToString();
    }
}
