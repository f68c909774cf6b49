using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

public sealed class VfioUserVersionTests
{
    [Fact]
    public void WriteThenTryRead_KeepsVersionAndNulTerminatedCapabilities()
    {
        var v = new VfioUserVersion(0, 0, """{"capabilities":{}}""");
        var b = new byte[v.Length];
        v.Write(b);
        Assert.Equal(0, b[^1]);
        Assert.Equal(WireError.None, VfioUserVersion.TryRead(b, out VfioUserVersion back));
        Assert.Equal(v, back);
    }

    [Theory]
    [InlineData("0000000041")]       // "A" without its NUL
    [InlineData("000000004100420000")] // a NUL before the end
    [InlineData("00000000FF00")]     // not UTF-8
    [InlineData("000000")]           // shorter than major and minor
    public void TryRead_CapabilitiesThatAreNotOneNulTerminatedString_AreRefused(string hex)
    {
        Assert.NotEqual(WireError.None, VfioUserVersion.TryRead(Convert.FromHexString(hex), out _));
    }
}
