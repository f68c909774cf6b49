using System.Buffers.Binary;
using System.Diagnostics;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Mana.Gdma;

/// <summary>The typed views and writers as driver code uses them, with values worked out by hand from the Linux layouts.</summary>
public sealed class GdmaViewTests
{
    [Fact]
    public void CqDoorbell_ArmBitIsBit63_TailAtBit32()
    {
        Span<byte> b = stackalloc byte[8];
        var w = new GdmaDoorbellEntryCqWriter(b).Clear();
        w.Id = 3;
        w.TailPtr = 512;
        w.Arm = true;
        Assert.Equal(0x8000_0200_0000_0003UL, BinaryPrimitives.ReadUInt64LittleEndian(b));
        Assert.Equal(WireError.None, GdmaDoorbellEntryCqView.TryRead(b, out var v));
        Assert.Equal((3u, 512u, true), (v.Id, v.TailPtr, v.Arm));
    }

    [Fact]
    public void EqDoorbell_IdIs16Bits_UpperHalfReserved()
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 0x0001_0000); // bit 16: reserved in the .eq variant, id in .cq
        Assert.Equal(WireError.ReservedBitsSet, GdmaDoorbellEntryEqView.TryRead(b, out _));
        Assert.Equal(WireError.None, GdmaDoorbellEntryCqView.TryRead(b, out var cq));
        Assert.Equal(0x10000u, cq.Id);
    }

    [Fact]
    public void Cqe_InfoWord_WqNumIsSqOwnerBits()
    {
        var b = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), 5u | 1u << 24 | 6u << 29);
        Assert.Equal(WireError.None, GdmaCqeView.TryRead(b, out var v));
        Assert.Equal((5u, true, (byte)6), (v.CqeInfoWqNum, v.CqeInfoIsSq, v.CqeInfoOwnerBits));
        b[63] |= 0x02; // bit 25: reserved
        Assert.Equal(WireError.ReservedBitsSet, GdmaCqeView.TryRead(b, out _, out GdmaFault fault));
        Assert.Equal("cqe_info.reserved", fault.Field.Key);
        Assert.Equal(WireError.Truncated, GdmaCqeView.TryRead(b.AsSpan(0, 63), out _));
    }

    [Fact]
    public void ReqHdr_BuiltAsManaGdInitReqHdr()
    {
        // mana_gd_init_req_hdr(hdr, GDMA_REGISTER_DEVICE, sizeof(gdma_general_req)=40, sizeof(gdma_register_device_resp)=44)
        var b = new byte[40];
        var w = new GdmaGeneralReqWriter(b).Clear();
        w.HdrReqMsgType = (uint)GdmaRequestType.RegisterDevice;
        w.HdrReqMsgVersion = 1;
        w.HdrReqMsgSize = 40;
        w.HdrRespMsgType = (uint)GdmaRequestType.RegisterDevice;
        w.HdrRespMsgVersion = 1;
        w.HdrRespMsgSize = 44;
        w.HdrDevIdType = GdmaDeviceType.Mana;
        Assert.Equal("00000000" + "04000000" + "0100" + "0000" + "28000000" + "00000000" + "04000000" + "0100" + "0000" + "2c000000" + "0200" + "0000" + "00000000",
            Convert.ToHexStringLower(b));
        Assert.Equal(WireError.None, GdmaGeneralReqView.TryRead(b, out var v));
        Assert.Equal(GdmaDeviceType.Mana, v.HdrDevIdType);
    }

    [Fact]
    public void TxShortOob_VcqNumAndVsqFrame()
    {
        var b = new byte[8];
        var w = new ManaTxShortOobWriter(b);
        w.PktFmt = ManaTxPktFormat.Short;
        w.IsOuterIpv4 = true;
        w.VcqNum = 0x123456;
        w.VsqFrame = 0x3FFF;
        w.ShortVpOffset = 7;
        Assert.Equal(0x1234_5604u, BinaryPrimitives.ReadUInt32LittleEndian(b));
        Assert.Equal(0x07FF_FC00u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)));
    }

    [Fact]
    public void RxcompOob_PerPacketInfoStride12()
    {
        var b = new byte[60];
        var w = new ManaRxcompOobWriter(b);
        w.CqeHdrCqeType = ManaCqeType.RxCoalesced4;
        w.SetPpiPktLen(0, 60);
        w.SetPpiPktLen(3, 1514);
        w.SetPpiPktHash(3, 0xDEADBEEF);
        w.RxWqeOffset = 0x40;
        Assert.Equal(60u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));
        Assert.Equal(1514u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8 + 36)));
        Assert.Equal(0xDEADBEEFu, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16 + 36)));
        Assert.Equal(WireError.None, ManaRxcompOobView.TryRead(b, out var v));
        Assert.Equal((ushort)1514, v.PpiPktLen(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ManaRxcompOobView(b).PpiPktLen(4));
    }

    [Fact]
    public void Writers_RangeCheckEveryField()
    {
        var b = new byte[8];
        new GdmaWqeWriter(b).NumSge = 255; // fits
        Assert.Contains("does not fit", Assert.Throws<ArgumentOutOfRangeException>(() => { var w = new GdmaWqeWriter(b); w.ClientDataUnit = 1 << 14; }).Message);
        Assert.Contains("is not a mana_tx_pkt_format", Assert.Throws<ArgumentOutOfRangeException>(() => { var w = new ManaTxShortOobWriter(b); w.PktFmt = (ManaTxPktFormat)2; }).Message);
        Assert.Throws<ArgumentException>(() => new GdmaCqeWriter(new byte[63]));

    }

    [Fact]
    public void EveryDecoder_RandomBytes_ReturnsValueOrWireError_100kEach()
    {
        var rng = new Random(7);
        var watch = Stopwatch.StartNew();
        long accepted = 0;
        foreach (GdmaLayout layout in GdmaLayouts.All)
        {
            byte[] valid = GdmaLayoutTests.MinimalValid(layout);
            var buffer = new byte[layout.Size + 8];
            for (int n = 0; n < 100_000; n++)
            {
                int length = rng.Next(buffer.Length + 1);
                if ((n & 1) == 0) rng.NextBytes(buffer.AsSpan(0, length));
                else
                {
                    // a valid instance with one random bit flipped: reaches the reserved/enum checks, not just the length
                    valid.CopyTo(buffer, 0);
                    length = layout.Size;
                    int bit = rng.Next(layout.Size * 8);
                    buffer[bit / 8] ^= (byte)(1 << (bit % 8));
                }
                WireError e = layout.CheckExact(buffer.AsSpan(0, length), out GdmaFault fault);
                if (e == WireError.None)
                {
                    accepted++;
                    foreach (GdmaField f in layout.Keys) _ = f.Read(buffer);
                }
                else Assert.Equal(e, fault.Error);
            }
        }
        Assert.InRange(accepted, 1, long.MaxValue);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {watch.Elapsed}");
    }

    [Fact]
    public void Check_AllocatesNothing()
    {
        var bytes = GdmaLayoutTests.MinimalValid(GdmaLayouts.ManaRxcompOob);
        Decode(bytes, 1000); // first calls load types and compile: not what is measured
        long before = GC.GetAllocatedBytesForCurrentThread();
        Decode(bytes, 1000);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static void Decode(byte[] bytes, int times)
    {
        for (int i = 0; i < times; i++)
        {
            GdmaLayouts.ManaRxcompOob.Check(bytes, out _);
            _ = ManaRxcompOobView.TryRead(bytes, out var v);
            _ = v.PpiPktLen(0);
        }
    }
}
