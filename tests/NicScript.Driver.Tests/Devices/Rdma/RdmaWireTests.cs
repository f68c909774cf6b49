using System.Buffers.Binary;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Memory;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>Checklist RD-33…RD-39 and RD-60: segmentation, the wire format, corruption, PSN wrap, dropped injections; the ICRC.</summary>
public sealed class RdmaWireTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(string.Concat(s.Where(char.IsAsciiHexDigit)));

    [Fact]
    public void RD_33_a_3000_byte_write_is_first_middle_last_with_one_ack()
    {
        using var f = new F1();
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 3000);
        RdmaCompletion c = f.X.SA.One(f.QA);
        Assert.Equal((0, 3000ul), (c.Status, c.ByteLen));
        var req = f.X.Roce.Where(x => RdmaFixture.Opcode(x) != 0x11).ToList();
        Assert.Equal([0x06, 0x07, 0x08], req.Select(RdmaFixture.Opcode).Select(o => (int)o));
        Assert.Equal([1024, 1024, 952], req.Select(x => RoceV2.Parse(x, out _)!.Value.PayloadLength));
        uint p = RdmaFixture.Psn(req[0]);
        Assert.Equal([p, p + 1, p + 2], req.Select(RdmaFixture.Psn));
        Assert.Equal(f.DstInfo.Addr, BinaryPrimitives.ReadUInt64BigEndian(req[0].AsSpan(54)));
        Assert.Equal(3000u, BinaryPrimitives.ReadUInt32BigEndian(req[0].AsSpan(66)));
        Assert.Equal([false, false, true], req.Select(x => (x[RoceV2.BthAt + 8] & 0x80) != 0));
        Assert.All(req, x => Assert.Equal(0, (x[RoceV2.BthAt + 1] >> 4) & 3));
        byte[] ack = Assert.Single(f.X.Roce, x => RdmaFixture.Opcode(x) == 0x11);
        Assert.Equal((0x1F, p + 2), (RdmaFixture.Syndrome(ack), RdmaFixture.Psn(ack)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(ack.AsSpan(54)) & 0xFFFFFF);
    }

    [Theory]
    [InlineData(2048, new[] { 1024, 1024 }, 0)]
    [InlineData(1025, new[] { 1024, 1 }, 3)]
    public void RD_34_sends_split_into_first_and_last(int length, int[] payloads, int lastPad)
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, (ulong)length);
        Assert.Equal(0, f.X.SA.One(f.QA).Status);
        var req = f.X.Roce.Where(x => RdmaFixture.Opcode(x) != 0x11).ToList();
        Assert.Equal([0x00, 0x02], req.Select(x => (int)RdmaFixture.Opcode(x)));
        Assert.Equal(payloads, req.Select(x => RoceV2.Parse(x, out _)!.Value.PayloadLength));
        Assert.Equal(lastPad, (req[1][RoceV2.BthAt + 1] >> 4) & 3);
    }

    [Fact]
    public void RD_35_a_one_byte_send_is_a_62_byte_frame_ending_in_its_icrc()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 1);
        f.X.SA.One(f.QA);
        byte[] x = Assert.Single(f.X.Roce, r => RdmaFixture.Opcode(r) == 0x04);
        Assert.Equal((3, 28, 48, 62), ((x[RoceV2.BthAt + 1] >> 4) & 3, (int)BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(38)), (int)BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(16)), x.Length));
        RoceV2.Layout l = RoceV2.Parse(x, out _)!.Value;
        Assert.Equal(RoceV2.Icrc(x, l), BinaryPrimitives.ReadUInt32LittleEndian(x.AsSpan(58)));
    }

    [Fact]
    public void RD_36_every_frame_has_the_headers_rxe_sends()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 3000);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 100);
        f.X.SA.One(f.QA);
        f.X.SA.One(f.QA);
        var ports = new HashSet<ushort>();
        foreach (byte[] x in f.X.Roce)
        {
            Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(12)));
            Assert.Equal((0x45, 0x4000, 17), (x[14], BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(20)) & 0x4000, x[23]));
            Assert.Equal(0, InternetChecksum.Compute(x.AsSpan(14, 20)) is 0 ? 0 : 1);
            Assert.Equal(4791, BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(36)));
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(34));
            Assert.InRange(sport, 0xC000, 0xFFFF);
            ports.Add(sport);
            Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(40)));
            Assert.Equal((0, 0xFFFF), (x[RoceV2.BthAt + 1] & 0xF, (int)BinaryPrimitives.ReadUInt16BigEndian(x.AsSpan(RoceV2.BthAt + 2))));
            RoceV2.Layout l = RoceV2.Parse(x, out _)!.Value;
            Assert.Equal(RoceV2.Icrc(x, l), RoceV2.StoredIcrc(x, l));
        }
        Assert.Single(ports); // one flow per QP pair, both directions
    }

    [Fact]
    public void RD_37_a_corrupted_frame_is_dropped_and_retransmitted()
    {
        using var f = new F1();
        f.X.Wire.InjectFaults(new FaultInjector(new FaultSettings(0, 1.0, 0, 0, 0, 7, TimeSpan.Zero)));
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 100);
        f.X.Machine.Rdma.Progress(mayJump: false); // the only frame goes out corrupted (no timer fires yet)
        f.X.Wire.InjectFaults(null);
        RdmaCompletion c = f.X.SA.One(f.QA);
        Assert.Equal(0, c.Status);
        Assert.Equal(Side.Bytes(f.Src)[..100].ToArray(), Side.Bytes(f.Dst)[..100].ToArray());
        Assert.True(f.X.B.DropReasons.GetValueOrDefault("bad ICRC") + f.X.B.DropReasons.Keys.Count(k => k.StartsWith("malformed", StringComparison.Ordinal)) >= 1);
        Assert.True(f.X.A.Retransmissions >= 1);
        uint psn = RdmaFixture.Psn(f.X.Captured.Last(x => RoceV2.Parse(x, out _) is not null && RdmaFixture.Opcode(x) == 0x0A));
        Assert.Equal(2, f.X.Captured.Count(x => x.Length > RoceV2.BthAt + 12 && x[RoceV2.BthAt] == 0x0A && RdmaFixture.Psn(x) == psn));
    }

    [Fact]
    public void RD_38_psns_wrap_at_24_bits()
    {
        using var f = new F1(options: new RdmaConnectOptions { SqPsn = 0xFFFFFE, RqPsn = 0xFFFFFE });
        f.X.SA.Ctx.PostWrite(f.QA, f.SrcMr, 0, f.DstInfo.Addr, f.DstInfo.Rkey, 3000);
        Assert.Equal(0, f.X.SA.One(f.QA).Status);
        Assert.Equal([0xFFFFFEu, 0xFFFFFFu, 0u], f.X.Roce.Where(x => RdmaFixture.Opcode(x) != 0x11).Select(RdmaFixture.Psn));
    }

    [Theory]
    [InlineData("no-qp")]
    [InlineData("source")]
    [InlineData("pkey")]
    [InlineData("tver")]
    [InlineData("ud")]
    public void RD_39_injected_frames_that_fail_a_check_are_dropped_silently(string bad)
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        f.X.SA.One(f.QA);
        byte[] good = f.X.Roce.First(x => RdmaFixture.Opcode(x) == 0x04);
        f.X.SB.Poll(f.QB);
        int frames = f.X.Roce.Count;
        byte[] x = (byte[])good.Clone();
        switch (bad)
        {
            case "no-qp": x[RoceV2.BthAt + 7] ^= 0x40; break;
            case "source": x[29] ^= 0x01; break;
            case "pkey": x[RoceV2.BthAt + 2] = 0x7F; break;
            case "tver": x[RoceV2.BthAt + 1] |= 1; break;
            default: x[RoceV2.BthAt] = 0x64; break;
        }
        if (bad != "source") BinaryPrimitives.WriteUInt16BigEndian(x.AsSpan(24), 0);
        BinaryPrimitives.WriteUInt16BigEndian(x.AsSpan(24), 0);
        BinaryPrimitives.WriteUInt16BigEndian(x.AsSpan(24), InternetChecksum.Compute(x.AsSpan(14, 20)));
        RoceV2.Layout? l = RoceV2.Parse(x, out _);
        if (l is { } layout) BinaryPrimitives.WriteUInt32LittleEndian(x.AsSpan(layout.IcrcAt), RoceV2.Icrc(x, layout)); // a valid ICRC: only the check under test fails
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        long dropped = f.X.B.RxDropped;
        Assert.True(f.X.B.Take(x));
        f.X.Run();
        Assert.Equal(dropped + 1, f.X.B.RxDropped);
        Assert.Equal(frames, f.X.Roce.Count); // no reply
        Assert.Empty(f.X.SB.Poll(f.QB));
        Assert.Equal(3, f.X.SB.Ctx.QpState(f.QB));
    }

    [Fact]
    public void RD_60_the_public_hardware_capture_checks_and_every_pitfall_is_caught()
    {
        byte[] cnp = Hex("e41d2dab2bc2 7cfe90643b32 0800 45c2003c718c40004011 9161 0a001101 0a001201 000012b700280000 8100ffff40000118 00000000 00000000000000000000000000000000 82fd002a");
        RoceV2.Layout l = RoceV2.Parse(cnp, out string? error) ?? throw new Xunit.Sdk.XunitException(error);
        Assert.Equal(0x2A00FD82u, RoceV2.Icrc(cnp, l));
        Assert.Equal(RoceV2.Icrc(cnp, l), RoceV2.StoredIcrc(cnp, l));
        // masked fields may change without changing the ICRC; covered ones must change it
        byte[] ttl = (byte[])cnp.Clone(); ttl[22] = 1; ttl[15] = 0; ttl[41] = 9; ttl[RoceV2.BthAt + 4] = 0;
        Assert.Equal(0x2A00FD82u, RoceV2.Icrc(ttl, l));
        foreach (int covered in new[] { 18, 20, 28, 34, RoceV2.BthAt + 2, RoceV2.BthAt + 11 })
        {
            byte[] c = (byte[])cnp.Clone();
            c[covered] ^= 1;
            Assert.NotEqual(0x2A00FD82u, RoceV2.Icrc(c, l));
        }
        // padded to 80 bytes on the wire, or behind a VLAN tag: the ICRC is found from the UDP length, the tag is not covered
        byte[] padded = [.. cnp, .. new byte[6]];
        Assert.Equal(0x2A00FD82u, RoceV2.Icrc(padded, RoceV2.Parse(padded, out _)!.Value));
        byte[] tagged = [.. cnp[..12], 0x81, 0x00, 0x00, 0x05, .. cnp[12..]];
        RoceV2.Layout t = RoceV2.Parse(tagged, out _)!.Value;
        Assert.Equal(0x2A00FD82u, RoceV2.Icrc(tagged, t));
        Assert.Equal(0x2A00FD82u, RoceV2.StoredIcrc(tagged, t));
    }

    [Fact]
    public void A_malformed_frame_from_the_wire_is_dropped_and_counted_never_thrown()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 100);
        f.X.SA.One(f.QA);
        byte[] good = f.X.Roce.First(r => RdmaFixture.Opcode(r) == 0x04);
        byte[] longUdp = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(longUdp.AsSpan(38), 4000); // UDP length past the frame
        byte[] unknownOpcode = (byte[])good.Clone();
        unknownOpcode[RoceV2.BthAt] = 0x1F;
        foreach (byte[] bad in new[] { good[..45], longUdp, unknownOpcode })
        {
            Assert.True(f.X.B.Take(bad));
            f.X.Run();
        }
        Assert.Equal(3, f.X.B.DropReasons.Where(kv => kv.Key.StartsWith("malformed", StringComparison.Ordinal)).Sum(kv => kv.Value));
        Assert.Equal(3, f.X.SB.Ctx.QpState(f.QB));
    }

    [Fact]
    public void RD_60_a_frame_with_a_wrong_icrc_is_dropped()
    {
        using var f = new F1();
        f.X.SB.Ctx.PostRecv(f.QB, f.RcvMr, 4096);
        f.X.SA.Ctx.PostSend(f.QA, f.SrcMr, 8);
        f.X.SA.One(f.QA);
        byte[] x = (byte[])f.X.Roce.First(r => RdmaFixture.Opcode(r) == 0x04).Clone();
        x[RoceV2.BthAt + 11] ^= 0x10; // a PSN the responder would NAK, but the ICRC no longer matches
        f.X.B.Take(x);
        f.X.Run();
        Assert.Equal(1, f.X.B.DropReasons["bad ICRC"]);
    }
}
