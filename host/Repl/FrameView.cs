using System.Buffers.Binary;
using System.Text;

namespace NicScript.Host.Repl;

/// <summary>A frame's headers as fields (Ethernet, ARP, IPv4, ICMP) for the REPL; what does not parse is said, never thrown.</summary>
public static class FrameView
{
    public static string Describe(ReadOnlySpan<byte> f)
    {
        var sb = new StringBuilder();
        if (f.Length < 14) return $"frame of {f.Length} bytes (too short for Ethernet)";
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
        sb.Append($"ethernet  dst {Mac(f)}  src {Mac(f[6..])}  type 0x{type:x4}");
        ReadOnlySpan<byte> p = f[14..];
        if (type == 0x0806 && p.Length >= 28)
        {
            ushort op = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
            sb.Append($"\narp       {(op == 1 ? "request" : op == 2 ? "reply" : $"op {op}")}  sender {Mac(p[8..])} {Ip(p[14..])}  target {Mac(p[18..])} {Ip(p[24..])}");
        }
        else if (type == 0x0800 && p.Length >= 20 && p[0] >> 4 == 4)
        {
            int ihl = (p[0] & 0xf) * 4;
            sb.Append($"\nipv4      {Ip(p[12..])} -> {Ip(p[16..])}  proto {p[9]}  ttl {p[8]}  length {BinaryPrimitives.ReadUInt16BigEndian(p[2..])}  id {BinaryPrimitives.ReadUInt16BigEndian(p[4..])}");
            if (p[9] == 1 && p.Length >= ihl + 8)
            {
                ReadOnlySpan<byte> icmp = p[ihl..];
                sb.Append($"\nicmp      type {icmp[0]}{(icmp[0] == 8 ? " (echo request)" : icmp[0] == 0 ? " (echo reply)" : "")}  code {icmp[1]}  id {BinaryPrimitives.ReadUInt16BigEndian(icmp[4..])}  seq {BinaryPrimitives.ReadUInt16BigEndian(icmp[6..])}");
            }
        }
        sb.Append('\n').Append(ReplFormatter.HexDump(f.ToArray()));
        return sb.ToString();
    }

    private static string Mac(ReadOnlySpan<byte> b) => NicScript.Driver.Wire.MacAddress.Format(b[..6]);

    private static string Ip(ReadOnlySpan<byte> b) => $"{b[0]}.{b[1]}.{b[2]}.{b[3]}";
}
