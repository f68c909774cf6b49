using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The fixed-size <c>…_GET_INFO</c> bodies (device, region, IRQ) as little-endian u32 words: each is exactly its
/// struct's length and opens with <c>argsz</c>, which must leave room for the whole reply.</summary>
/// <remarks>Design: the three structs differ only in how many words they have and what the words mean, so the length rule,
/// the <c>argsz</c> rule and the byte order live here once; a u64 field is two words, low first.</remarks>
internal static class VfioUserInfoBody
{
    /// <summary>Reads <paramref name="words"/> (<c>words.Length * 4</c> bytes: the struct's length) from <paramref name="body"/>.</summary>
    /// <returns><see cref="WireError.Truncated"/> or <see cref="WireError.TooLong"/> for a body of another length,
    /// <see cref="WireError.OutOfRange"/> for an <c>argsz</c> shorter than the struct; the words are read either way.</returns>
    public static WireError TryRead(ReadOnlySpan<byte> body, Span<uint> words)
    {
        int length = words.Length * 4;
        if (body.Length < length) return WireError.Truncated;
        if (body.Length > length) return WireError.TooLong;
        for (int i = 0; i < words.Length; i++) words[i] = BinaryPrimitives.ReadUInt32LittleEndian(body[(i * 4)..]);
        return words[0] < length ? WireError.OutOfRange : WireError.None;
    }

    public static void Write(Span<byte> body, ReadOnlySpan<uint> words)
    {
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(body[(i * 4)..], words[i]);
    }

    /// <summary>The u64 made of words <paramref name="at"/> (low) and <paramref name="at"/> + 1 (high).</summary>
    public static ulong U64(ReadOnlySpan<uint> words, int at) => words[at] | (ulong)words[at + 1] << 32;
}
