using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Pci;

public sealed class PciAddressTests
{
    [Theory]
    [InlineData("0x00:0x1F:0x0")]
    [InlineData("0x00:0x1f:0x0")]
    [InlineData("00:1f.0")]
    [InlineData("0000:00:1F.0")]
    [InlineData("  00:1f.0 ")]
    public void TryParse_EveryAcceptedForm_GivesOneValue(string text)
    {
        Assert.True(PciAddress.TryParse(text, out PciAddress a, out string? error), error);
        Assert.Equal(new PciAddress(0, 0, 0x1f, 0), a);
        Assert.Equal("0000:00:1f.0", a.ToString());
        Assert.Equal("00:1f.0", a.Short);
    }

    [Theory]
    [InlineData("00:20.0", "device 0x20 out of range")]
    [InlineData("00:1f.8", "function 0x8 out of range")]
    [InlineData("0x100:0x00:0x0", "bus 0x100 out of range")]
    [InlineData("10000:00:00.0", "segment")]
    [InlineData("00:zz.0", "is not a hex number")]
    [InlineData("", "is not a PCI address")]
    [InlineData("00:1f", "is not a PCI address")]
    [InlineData("0x00:1f:0x0", "is not a PCI address")]
    public void TryParse_Bad_RefusesWithReason(string text, string fragment)
    {
        Assert.False(PciAddress.TryParse(text, out _, out string? error));
        Assert.Contains(fragment, error);
    }

    [Fact]
    public void Parse_Segment_IsKept() => Assert.Equal("0001:02:03.4", PciAddress.Parse("1:2:3.4").ToString());
}
