using System.Buffers.Binary;
using System.Text;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_VERSION</c>: protocol major and minor, and a JSON object of capabilities.</summary>
/// <remarks>Layout: major u16, minor u16, then (optional) the capabilities as NUL-terminated UTF-8 JSON. A string that
/// does not end in NUL, or holds one before its end, is refused; whether it is a JSON object is the server's to judge.</remarks>
internal readonly record struct VfioUserVersion(ushort Major, ushort Minor, string Capabilities)
{
    public const int FixedLength = 4;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserVersion version)
    {
        version = default;
        if (body.Length < FixedLength) return WireError.Truncated;
        ReadOnlySpan<byte> caps = body[FixedLength..];
        if (caps.Length > 0 && (caps[^1] != 0 || caps[..^1].Contains((byte)0))) return WireError.OutOfRange;
        string json;
        try
        {
            json = caps.Length == 0 ? "" : new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(caps[..^1]);
        }
        catch (DecoderFallbackException)
        {
            return WireError.OutOfRange;
        }
        version = new VfioUserVersion(BinaryPrimitives.ReadUInt16LittleEndian(body), BinaryPrimitives.ReadUInt16LittleEndian(body[2..]), json);
        return WireError.None;
    }

    /// <summary>Bytes <see cref="Write"/> needs.</summary>
    public int Length => FixedLength + Encoding.UTF8.GetByteCount(Capabilities) + 1;

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(body, Major);
        BinaryPrimitives.WriteUInt16LittleEndian(body[2..], Minor);
        int n = Encoding.UTF8.GetBytes(Capabilities, body[FixedLength..]);
        body[FixedLength + n] = 0;
    }
}
