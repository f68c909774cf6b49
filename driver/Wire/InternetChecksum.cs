using System.Buffers.Binary;

namespace NicScript.Driver.Wire;

/// <summary>The internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit big-endian words,
/// an odd last byte padded with zero. Over a header whose checksum field holds the right value it yields 0.</summary>
public static class InternetChecksum
{
    public static ushort Compute(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < bytes.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        if (bytes.Length % 2 == 1) sum += (uint)bytes[^1] << 8;
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
