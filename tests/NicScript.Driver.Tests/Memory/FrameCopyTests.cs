using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Memory;

public sealed class FrameCopyTests
{
    [Theory]
    [InlineData(14)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(60)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1514)]
    public unsafe void Copy_MovesExactlyTheFrame_AndNothingAround(int length)
    {
        byte[] source = Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 1)).ToArray();
        byte[] destination = new byte[length + 64];
        destination.AsSpan().Fill(0xEE);
        fixed (byte* s = source)
        fixed (byte* d = destination)
            FrameCopy.Copy(d + 32, s, length);
        Assert.Equal(source, destination.AsSpan(32, length).ToArray());
        Assert.All(destination.AsSpan(0, 32).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.All(destination.AsSpan(32 + length).ToArray(), b => Assert.Equal(0xEE, b));
    }
}
