using System.Buffers.Binary;

namespace NicScript.Driver.Devices.Rdma;

/// <summary>RoCEv2 on the wire (reference/rdma.md §6): Ethernet / IPv4 / UDP 4791 / BTH (+RETH/AETH) / payload / pad / ICRC.</summary>
public static class RoceV2
{
    public const ushort UdpPort = 4791;
    public const int EthHeader = 14, Ipv4Header = 20, UdpHeader = 8, Bth = 12, Reth = 16, Aeth = 4, IcrcBytes = 4;
    /// <summary>Offset of the BTH in an untagged IPv4 frame.</summary>
    public const int BthAt = EthHeader + Ipv4Header + UdpHeader;

    public const byte SendFirst = 0x00, SendMiddle = 0x01, SendLast = 0x02, SendOnly = 0x04,
        WriteFirst = 0x06, WriteMiddle = 0x07, WriteLast = 0x08, WriteOnly = 0x0A, Acknowledge = 0x11;

    public const byte SyndromeAck = 0x1F, SyndromeRnr = 0x20, NakPsnSeq = 0x60, NakInvalidRequest = 0x61, NakRemoteAccess = 0x62, NakRemoteOp = 0x63;

    /// <summary>Extension header bytes after the BTH for an opcode, or −1 when the opcode is unknown (§6.5).</summary>
    public static int ExtensionBytes(byte opcode)
    {
        int op = opcode & 0x1F, transport = opcode >> 5;
        if (opcode == 0x81) return 16; // CNP
        if (transport == 3) return op is 0x04 ? 8 : op is 0x05 ? 12 : -1; // UD SEND_ONLY (DETH), with immediate
        if (transport is not (0 or 1)) return -1;
        if (transport == 1 && op > 0x0B) return -1; // UC has no read/atomics/ack
        return op switch
        {
            0x00 or 0x01 or 0x02 or 0x04 or 0x07 or 0x08 => 0,
            0x03 or 0x05 or 0x09 => 4,
            0x06 or 0x0A or 0x0C => Reth,
            0x0B => Reth + 4,
            0x0D or 0x0F or 0x10 or 0x11 => Aeth,
            0x0E => 0,
            0x12 => Aeth + 8,
            0x13 or 0x14 => 28,
            0x16 or 0x17 => 4,
            _ => -1,
        };
    }

    public static string OpcodeName(byte opcode) => opcode switch
    {
        0x81 => "CNP",
        _ => (opcode >> 5) switch
        {
            0 => "RC_",
            1 => "UC_",
            3 => "UD_",
            _ => "?_",
        } + ((opcode & 0x1F) switch
        {
            0x00 => "SEND_FIRST", 0x01 => "SEND_MIDDLE", 0x02 => "SEND_LAST", 0x03 => "SEND_LAST_WITH_IMMEDIATE", 0x04 => "SEND_ONLY",
            0x05 => "SEND_ONLY_WITH_IMMEDIATE", 0x06 => "RDMA_WRITE_FIRST", 0x07 => "RDMA_WRITE_MIDDLE", 0x08 => "RDMA_WRITE_LAST",
            0x09 => "RDMA_WRITE_LAST_WITH_IMMEDIATE", 0x0A => "RDMA_WRITE_ONLY", 0x0B => "RDMA_WRITE_ONLY_WITH_IMMEDIATE",
            0x0C => "RDMA_READ_REQUEST", 0x0D => "RDMA_READ_RESPONSE_FIRST", 0x0E => "RDMA_READ_RESPONSE_MIDDLE",
            0x0F => "RDMA_READ_RESPONSE_LAST", 0x10 => "RDMA_READ_RESPONSE_ONLY", 0x11 => "ACKNOWLEDGE", 0x12 => "ATOMIC_ACKNOWLEDGE",
            0x13 => "COMPARE_SWAP", 0x14 => "FETCH_ADD", 0x16 => "SEND_LAST_WITH_INVALIDATE", 0x17 => "SEND_ONLY_WITH_INVALIDATE",
            _ => "UNKNOWN",
        }),
    };

    /// <summary>The UDP source port of a QP pair (§6.3): the folded flow label of lqpn × rqpn, in 0xC000–0xFFFF.</summary>
    public static ushort SourcePort(uint lqpn, uint rqpn)
    {
        ulong v = (ulong)lqpn * rqpn;
        v ^= v >> 20;
        v ^= v >> 40;
        uint fl = (uint)(v & 0xFFFFF);
        return (ushort)(0xC000 | ((fl & 0x3FFF) ^ ((fl & 0xFC000) >> 14)));
    }

    /// <summary>Where a RoCEv2 frame's parts are (offsets into the frame), found fail-closed.</summary>
    public readonly record struct Layout(int L3, bool Ipv6, int Udp, int UdpLength, int BthAt, byte Opcode, int ExtAt, int PayloadAt, int PayloadLength, int PadCount, int IcrcAt);

    /// <summary>Finds the layers of a RoCEv2 frame (optional 802.1Q tag, IPv4 or IPv6, UDP 4791); null with a reason when it is not one.</summary>
    public static Layout? Parse(ReadOnlySpan<byte> f, out string? error)
    {
        error = null;
        int at = EthHeader;
        if (f.Length < EthHeader) return Fail("shorter than an Ethernet header", out error);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
        if (type == 0x8100)
        {
            if (f.Length < 18) return Fail("truncated 802.1Q tag", out error);
            type = BinaryPrimitives.ReadUInt16BigEndian(f[16..]);
            at = 18;
        }
        int udp;
        bool v6 = false;
        if (type == 0x0800)
        {
            if (f.Length < at + Ipv4Header) return Fail("truncated IPv4 header", out error);
            if (f[at] >> 4 != 4) return Fail("IPv4 version is not 4", out error);
            int ihl = (f[at] & 0xF) * 4;
            if (ihl < 20 || f.Length < at + ihl) return Fail("bad IPv4 header length", out error);
            if (f[at + 9] != 17) return Fail("not UDP", out error);
            udp = at + ihl;
        }
        else if (type == 0x86DD)
        {
            if (f.Length < at + 40) return Fail("truncated IPv6 header", out error);
            if (f[at + 6] != 17) return Fail("not UDP", out error);
            udp = at + 40;
            v6 = true;
        }
        else return Fail($"EtherType 0x{type:x4} is not IP", out error);
        if (f.Length < udp + UdpHeader) return Fail("truncated UDP header", out error);
        if (BinaryPrimitives.ReadUInt16BigEndian(f[(udp + 2)..]) != UdpPort) return Fail("UDP destination port is not 4791", out error);
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(f[(udp + 4)..]);
        if (udpLength < UdpHeader + Bth + IcrcBytes || udp + udpLength > f.Length) return Fail($"UDP length {udpLength} does not fit the frame", out error);
        int bth = udp + UdpHeader;
        byte opcode = f[bth];
        int ext = ExtensionBytes(opcode);
        if (ext < 0) return Fail($"unknown opcode 0x{opcode:x2}", out error);
        int payloadAt = bth + Bth + ext, icrcAt = udp + udpLength - IcrcBytes;
        int pad = (f[bth + 1] >> 4) & 3;
        int payload = icrcAt - payloadAt - pad;
        if (payload < 0) return Fail("headers and pad longer than the UDP payload", out error);
        return new Layout(at, v6, udp, udpLength, bth, opcode, bth + Bth, payloadAt, payload, pad, icrcAt);
    }

    private static Layout? Fail(string why, out string? error)
    {
        error = why;
        return null;
    }

    /// <summary>The ICRC of a parsed frame (§7): CRC-32 over 8 × 0xFF, the masked IP/UDP/BTH headers and the rest up to the ICRC.</summary>
    public static uint Icrc(ReadOnlySpan<byte> f, in Layout l)
    {
        System.IO.Hashing.Crc32 crc = t_crc ??= new System.IO.Hashing.Crc32();
        crc.Reset();
        crc.Append([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        Span<byte> hdr = stackalloc byte[40];
        int ipLength = l.Udp - l.L3;
        f.Slice(l.L3, ipLength).CopyTo(hdr);
        if (l.Ipv6)
        {
            hdr[0] = 0x6F;
            hdr[1] = hdr[2] = hdr[3] = 0xFF; // traffic class and flow label
            hdr[7] = 0xFF;                     // hop limit
        }
        else
        {
            hdr[1] = 0xFF;                    // TOS
            hdr[8] = 0xFF;                    // TTL
            hdr[10] = hdr[11] = 0xFF;         // header checksum
        }
        crc.Append(hdr[..ipLength]);
        Span<byte> udpBth = stackalloc byte[UdpHeader + Bth];
        f.Slice(l.Udp, UdpHeader + Bth).CopyTo(udpBth);
        udpBth[6] = udpBth[7] = 0xFF;         // UDP checksum
        udpBth[UdpHeader + 4] = 0xFF;         // FECN, BECN, Resv6
        crc.Append(udpBth);
        crc.Append(f[(l.BthAt + Bth)..l.IcrcAt]);
        return crc.GetCurrentHashAsUInt32(); // the standard CRC-32: reflected, initial and final inversion
    }

    [ThreadStatic] private static System.IO.Hashing.Crc32? t_crc;

    /// <summary>The ICRC found in the frame (stored least-significant byte first).</summary>
    public static uint StoredIcrc(ReadOnlySpan<byte> f, in Layout l) => BinaryPrimitives.ReadUInt32LittleEndian(f[l.IcrcAt..]);
}
