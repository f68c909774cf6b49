using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

public sealed class VfioUserIrqSetTests
{
    private static byte[] Body(uint argsz, uint flags, uint count, int data = 0)
    {
        var b = new byte[VfioUserIrqSet.Length + data];
        new VfioUserIrqSet(argsz, flags, 2, 0, count).Write(b);
        return b;
    }

    [Fact]
    public void TryRead_EventfdsAsQemuSendsThem_ArgszTwentyAndNoData()
    {
        Assert.Equal(WireError.None, VfioUserIrqSet.TryRead(Body(20, VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, 3), out VfioUserIrqSet s));
        Assert.Equal((VfioUserIrqSet.DataEventfd, VfioUserIrqSet.ActionTrigger, 3u), (s.Data, s.Action, s.Count));
    }

    [Fact]
    public void TryRead_BoolData_IsCountBytesAfterTheStruct()
    {
        Assert.Equal(WireError.None, VfioUserIrqSet.TryRead(Body(23, VfioUserIrqSet.DataBool | VfioUserIrqSet.ActionTrigger, 3, data: 3), out _));
        Assert.Equal(WireError.Truncated, VfioUserIrqSet.TryRead(Body(23, VfioUserIrqSet.DataBool | VfioUserIrqSet.ActionTrigger, 3, data: 2), out _));
        Assert.Equal(WireError.TooLong, VfioUserIrqSet.TryRead(Body(20, VfioUserIrqSet.DataNone | VfioUserIrqSet.ActionTrigger, 1, data: 4), out _));
    }

    [Theory]
    [InlineData(VfioUserIrqSet.DataNone | VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, WireError.UnknownEnumValue)] // two data types
    [InlineData(VfioUserIrqSet.DataNone, WireError.UnknownEnumValue)]                                                           // no action
    [InlineData(VfioUserIrqSet.DataNone | VfioUserIrqSet.ActionTrigger | 0x40u, WireError.ReservedBitsSet)]                    // bit 6
    public void TryRead_FlagsThatAreNotOneDataAndOneAction_AreRefused(uint flags, WireError expected)
    {
        Assert.Equal(expected, VfioUserIrqSet.TryRead(Body(20, flags, 1), out _));
    }

    [Fact]
    public void TryRead_ArgszThatIsNotTheBodysLength_IsRefused()
    {
        Assert.Equal(WireError.OutOfRange, VfioUserIrqSet.TryRead(Body(24, VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, 1), out _));
    }
}
