using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>One field of a GDMA structure: its JSON key, the little-endian storage unit that holds it, its bits and rule.</summary>
/// <param name="Key">The Linux field name path (gdma.md §8.2), e.g. <c>cqe_info.wq_num</c>, <c>ppi[2].pkt_len</c>.</param>
/// <param name="Offset">Byte offset of the storage unit (the declared C type).</param>
/// <param name="Unit">Size of that unit in bytes: 1, 2, 4 or 8.</param>
/// <param name="Bit">First bit inside the unit (bit 0 = least significant).</param>
/// <param name="Width">Width in bits.</param>
public readonly record struct GdmaField(string Key, int Offset, int Unit, int Bit, int Width, GdmaRule Rule)
{
    /// <summary>The largest value the field holds.</summary>
    public ulong Max => Width == 64 ? ulong.MaxValue : (1UL << Width) - 1;

    public bool IsReserved => Rule == GdmaRule.Reserved;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(ReadOnlySpan<byte> bytes) => GdmaBits.Read(bytes, Offset, Unit, Bit, Width);
}

/// <summary>The layout of one GDMA/MANA wire structure: name, size and every field in declaration order.</summary>
/// <remarks>
/// One table serves the typed views (<c>…View.TryRead</c>), the generic encoder and decoder behind
/// <c>nicscript gdma</c> and the script-facing <c>gdma</c> handle, so the three cannot disagree. Checking walks only
/// the reserved and enum-checked fields, precomputed; it allocates nothing and never throws.
/// </remarks>
public sealed class GdmaLayout
{
    private readonly GdmaField[] _checked;
    private readonly GdmaField[] _enums;
    private readonly byte[] _reservedMask; // the bits reserved fields cover, byte by byte: one AND per word decides them all
    private readonly FrozenDictionary<string, int> _keys;

    public GdmaLayout(string name, int size, string summary, GdmaField[] fields)
    {
        Name = name;
        Size = size;
        Summary = summary;
        Fields = fields;
        _checked = fields.Where(f => f.Rule != GdmaRule.Any).ToArray();
        _enums = _checked.Where(f => !f.IsReserved).ToArray();
        _reservedMask = new byte[(size + 7) / 8 * 8];
        Keys = fields.Where(f => !f.IsReserved).ToArray();
        _keys = Keys.Select((f, i) => (f.Key, i)).ToFrozenDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);
        foreach (GdmaField f in fields)
            if (f.Offset < 0 || f.Offset + f.Unit > size || f.Bit + f.Width > f.Unit * 8)
                throw new ArgumentException($"{name}: field {f.Key} lies outside the structure");
        foreach (GdmaField f in fields.Where(f => f.IsReserved))
            for (int b = f.Bit; b < f.Bit + f.Width; b++) _reservedMask[f.Offset + b / 8] |= (byte)(1 << (b % 8)); // storage units are little-endian
    }

    /// <summary>The Linux C type name (a union variant after a dot).</summary>
    public string Name { get; }

    /// <summary><c>sizeof</c> of the Linux declaration (the fixed part, for the two types with a trailing list).</summary>
    public int Size { get; }

    public string Summary { get; }

    /// <summary>Every field, reserved ones included.</summary>
    public IReadOnlyList<GdmaField> Fields { get; }

    /// <summary>The fields that are JSON keys (everything but the reserved ones), in declaration order.</summary>
    public GdmaField[] Keys { get; }

    public bool TryFindKey(string key, out GdmaField field)
    {
        field = default;
        if (!_keys.TryGetValue(key, out int i)) return false;
        field = Keys[i];
        return true;
    }

    /// <summary>Checks the first <see cref="Size"/> bytes of <paramref name="bytes"/>: reserved fields zero, enum fields members.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public WireError Check(ReadOnlySpan<byte> bytes, out GdmaFault fault)
    {
        if (bytes.Length >= Size && Passes(bytes))
        {
            fault = default;
            return WireError.None;
        }
        return CheckFields(bytes, out fault);
    }

    /// <summary><see cref="Check"/>'s verdict alone, for a device's frame path that answers a failure with an error CQE and
    /// needs no fault record (a struct of references the caller would zero and copy per entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Accepts(ReadOnlySpan<byte> bytes) => bytes.Length >= Size && Passes(bytes);

    /// <summary>Field by field, to name what failed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WireError CheckFields(ReadOnlySpan<byte> bytes, out GdmaFault fault)
    {
        if (bytes.Length < Size)
        {
            fault = new GdmaFault(WireError.Truncated, this, default, (ulong)bytes.Length);
            return WireError.Truncated;
        }
        foreach (ref readonly GdmaField f in _checked.AsSpan())
        {
            ulong v = f.Read(bytes);
            if (GdmaSets.Contains(f.Rule, v)) continue;
            WireError e = f.IsReserved ? WireError.ReservedBitsSet : WireError.UnknownEnumValue;
            fault = new GdmaFault(e, this, f, v);
            return e;
        }
        fault = default;
        return WireError.None;
    }

    /// <summary>The frame path's answer to <see cref="Check"/> for bytes at least <see cref="Size"/> long: reserved bits by
    /// mask, a word at a time, then the enum fields; the field-by-field walk runs only to name what failed.</summary>
    private bool Passes(ReadOnlySpan<byte> bytes)
    {
        if (_checked.Length == 0) return true; // every value of every field is allowed (gdma_sge)
        ReadOnlySpan<byte> mask = _reservedMask;
        int whole = Size & ~7;
        for (int i = 0; i < whole; i += 8)
            if ((BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]) & BinaryPrimitives.ReadUInt64LittleEndian(mask[i..])) != 0) return false;
        for (int i = whole; i < Size; i++)
            if ((bytes[i] & mask[i]) != 0) return false;
        foreach (ref readonly GdmaField f in _enums.AsSpan())
            if (!GdmaSets.Contains(f.Rule, f.Read(bytes))) return false;
        return true;
    }

    /// <summary>Decode's rule: exactly <see cref="Size"/> bytes, then <see cref="Check"/>.</summary>
    public WireError CheckExact(ReadOnlySpan<byte> bytes, out GdmaFault fault)
    {
        if (bytes.Length > Size)
        {
            fault = new GdmaFault(WireError.TooLong, this, default, (ulong)bytes.Length);
            return WireError.TooLong;
        }
        return Check(bytes, out fault);
    }

    /// <summary>Writes <paramref name="value"/> into <paramref name="field"/> after checking its width and set.</summary>
    public WireError TryWrite(Span<byte> bytes, in GdmaField field, ulong value, out GdmaFault fault)
    {
        fault = default;
        if (bytes.Length < Size)
        {
            fault = new GdmaFault(WireError.Truncated, this, default, (ulong)bytes.Length);
            return WireError.Truncated;
        }
        if (value > field.Max)
        {
            fault = new GdmaFault(WireError.OutOfRange, this, field, value);
            return WireError.OutOfRange;
        }
        if (!GdmaSets.Contains(field.Rule, value))
        {
            fault = new GdmaFault(field.IsReserved ? WireError.ReservedBitsSet : WireError.UnknownEnumValue, this, field, value);
            return fault.Error;
        }
        GdmaBits.WriteUnchecked(bytes, field.Offset, field.Unit, field.Bit, field.Width, value);
        return WireError.None;
    }

    /// <summary>After a field-by-field encode into zeroed bytes: the enum fields left at 0 must be members too (§8.3).</summary>
    public WireError CheckEncoded(ReadOnlySpan<byte> bytes, out GdmaFault fault) => Check(bytes, out fault);

    public override string ToString() => $"{Name} ({Size} bytes)";

    /// <summary>Table helper: another layout's fields under a key prefix (the <c>hdr.</c> of request and response bodies).</summary>
    public static IEnumerable<GdmaField> Prefixed(string prefix, GdmaLayout inner) =>
        inner.Fields.Select(f => f with { Key = prefix + f.Key });

    /// <summary>Table helper: an array of <paramref name="count"/> elements, element-major; members give element 0.</summary>
    public static IEnumerable<GdmaField> Array(string name, int count, int stride, GdmaField[] members)
    {
        for (int i = 0; i < count; i++)
            foreach (GdmaField m in members)
                yield return m with { Key = $"{name}[{i}]{m.Key}", Offset = m.Offset + i * stride };
    }
}

/// <summary>Bit access to little-endian storage units; shared by the table and the generated views.</summary>
internal static class GdmaBits
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read(ReadOnlySpan<byte> b, int offset, int unit, int bit, int width)
    {
        ulong word = unit switch
        {
            1 => b[offset],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(b[offset..]),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(b[offset..]),
        };
        return width == 64 ? word : (word >> bit) & ((1UL << width) - 1);
    }

    /// <summary>Writes a field; a value wider than the field, or outside its set, throws (an encoder's caller bug).</summary>
    public static void Write(Span<byte> b, int offset, int unit, int bit, int width, GdmaRule rule, ulong value, string key)
    {
        if (width < 64 && value >> width != 0)
            throw new ArgumentOutOfRangeException(key, value, $"{key}: {value} does not fit {width} bits");
        if (!GdmaSets.Contains(rule, value))
            throw new ArgumentOutOfRangeException(key, value, $"{key}: {value} is not a {GdmaSets.Name(rule)}");
        WriteUnchecked(b, offset, unit, bit, width, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WriteUnchecked(Span<byte> b, int offset, int unit, int bit, int width, ulong value)
    {
        ulong mask = width == 64 ? ulong.MaxValue : ((1UL << width) - 1) << bit;
        switch (unit)
        {
            case 1: b[offset] = (byte)((b[offset] & ~mask) | (value << bit & mask)); break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(b[offset..], (ushort)((BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]) & ~mask) | (value << bit & mask)));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(b[offset..], (uint)((BinaryPrimitives.ReadUInt32LittleEndian(b[offset..]) & ~mask) | (value << bit & mask)));
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(b[offset..], (BinaryPrimitives.ReadUInt64LittleEndian(b[offset..]) & ~mask) | (value << bit & mask));
                break;
        }
    }

    /// <summary>An array index, checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(int i, int count)
    {
        if ((uint)i >= (uint)count) throw new ArgumentOutOfRangeException(nameof(i), i, $"index must be 0..{count - 1}");
        return i;
    }
}

/// <summary>Why a structure was refused, with the field and value that decided it; formatting happens only when asked.</summary>
public readonly record struct GdmaFault(WireError Error, GdmaLayout? Layout, GdmaField Field, ulong Value)
{
    /// <summary>One line naming the type and the failing field or rule, e.g. <c>gdma_eqe_info: type: 0 is not a gdma_eqe_type</c>.</summary>
    public override string ToString()
    {
        string type = Layout?.Name ?? "?";
        return Error switch
        {
            WireError.None => $"{type}: ok",
            WireError.Truncated => $"{type}: {Value} bytes, expected {Layout?.Size}",
            WireError.TooLong => $"{type}: {Value} bytes, expected {Layout?.Size}",
            WireError.ReservedBitsSet => $"{type}: {Field.Key}: reserved bits {Field.Bit}-{Field.Bit + Field.Width - 1} of byte {Field.Offset} must be zero (0x{Value:x})",
            WireError.UnknownEnumValue => $"{type}: {Field.Key}: {Value} is not a {GdmaSets.Name(Field.Rule)}",
            WireError.OutOfRange => $"{type}: {Field.Key}: {Value} does not fit {Field.Width} bits (max {Field.Max})",
            _ => $"{type}: {Error}",
        };
    }
}
