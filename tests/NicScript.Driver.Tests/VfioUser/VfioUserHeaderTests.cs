using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

public sealed class VfioUserHeaderTests
{
    [Fact]
    public void WriteThenTryRead_KeepsEveryFieldAtItsOffset()
    {
        var b = new byte[VfioUserHeader.Size];
        new VfioUserHeader(0x1234, VfioUserCommand.RegionWrite, 0x28, VfioUserHeader.NoReply, 0).Write(b);
        Assert.Equal("34120A002800000010000000" + "00000000", Convert.ToHexString(b));
        Assert.Equal(WireError.None, VfioUserHeader.TryRead(b, out VfioUserHeader h));
        Assert.Equal((0x1234, VfioUserCommand.RegionWrite, 0x28u, true, false), (h.MessageId, h.Command, h.MessageSize, h.IsCommand, h.WantsReply));
    }

    [Theory]
    [InlineData("0100010010000000", WireError.Truncated)]                         // 8 bytes
    [InlineData("01000100" + "0F000000" + "00000000" + "00000000", WireError.Truncated)]   // size 15 < header
    [InlineData("01000100" + "10000000" + "40000000" + "00000000", WireError.ReservedBitsSet)]  // bit 6
    [InlineData("01000100" + "10000000" + "02000000" + "00000000", WireError.UnknownEnumValue)] // type 2
    [InlineData("01000000" + "10000000" + "00000000" + "00000000", WireError.UnknownEnumValue)] // command 0
    [InlineData("01001000" + "10000000" + "00000000" + "00000000", WireError.UnknownEnumValue)] // command 16
    public void TryRead_MalformedHeader_IsRefused(string hex, WireError expected)
    {
        Assert.Equal(expected, VfioUserHeader.TryRead(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void Decoders_RandomBytes_ReturnValueOrWireErrorAndNeverThrow()
    {
        var rng = new Random(4242); // fixed seed: a failure reproduces
        var buf = new byte[64];
        for (int i = 0; i < 50_000; i++)
        {
            rng.NextBytes(buf);
            ReadOnlySpan<byte> b = buf.AsSpan(0, rng.Next(buf.Length + 1));
            _ = VfioUserHeader.TryRead(b, out _);
            _ = VfioUserDmaMap.TryRead(b, out _);
            _ = VfioUserDmaUnmap.TryRead(b, out _);
            _ = VfioUserDeviceInfo.TryRead(b, out _);
            _ = VfioUserRegionInfo.TryRead(b, out _);
            _ = VfioUserIrqInfo.TryRead(b, out _);
            _ = VfioUserIrqSet.TryRead(b, out _);
            _ = VfioUserRegionAccess.TryRead(b, i % 2 == 0, out _);
            _ = VfioUserVersion.TryRead(b, out _);
        }
    }
}
