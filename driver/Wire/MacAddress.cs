using System.Globalization;

namespace NicScript.Driver.Wire;

/// <summary>MAC addresses as people write them: <c>52:54:00:12:34:56</c>.</summary>
public static class MacAddress
{
    public static string Format(ReadOnlySpan<byte> mac)
    {
        Span<char> text = stackalloc char[mac.Length * 3];
        for (int i = 0; i < mac.Length; i++)
        {
            mac[i].TryFormat(text[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
            text[i * 3 + 2] = ':';
        }
        return new string(text[..Math.Max(0, mac.Length * 3 - 1)]);
    }

    /// <summary>The address as a 48-bit number, first octet most significant (an empty span is 0).</summary>
    public static ulong ToUInt64(ReadOnlySpan<byte> mac)
    {
        ulong v = 0;
        foreach (byte b in mac) v = v << 8 | b;
        return v;
    }

    /// <summary>The six octets of a 48-bit number, first octet most significant.</summary>
    public static byte[] FromUInt64(ulong value)
    {
        var mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte)(value >> (40 - 8 * i));
        return mac;
    }

    /// <summary>Six colon-separated hex octets of one or two digits each; false for anything else.</summary>
    public static bool TryParse(string text, out byte[] mac)
    {
        mac = new byte[6];
        string[] parts = text.Split(':');
        if (parts.Length != 6) return false;
        for (int i = 0; i < 6; i++)
            if (parts[i].Length is < 1 or > 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mac[i])) return false;
        return true;
    }
}
