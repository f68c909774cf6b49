using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Memory;

public sealed class IovaAllocatorTests
{
    [Fact]
    public void Free_AllRanges_CoalescesBackToOneRange()
    {
        var a = new IovaAllocator(0x10000, 1 << 20);
        var got = new List<(ulong, ulong)>();
        for (ulong len = 100; len < 20_000; len += 3000)
        {
            Assert.True(a.TryAllocate(len, out ulong iova));
            got.Add((iova, len));
        }
        foreach (var (iova, len) in got.AsEnumerable().Reverse().Where((_, i) => i % 2 == 0)) a.Free(iova, len);
        foreach (var (iova, len) in got.AsEnumerable().Reverse().Where((_, i) => i % 2 == 1)) a.Free(iova, len);
        Assert.Equal(1UL << 20, a.FreeBytes);
        Assert.True(a.TryAllocate((1 << 20) - IovaAllocator.PageSize, out ulong all));
        Assert.Equal(0x10000UL, all);
    }

    [Fact]
    public void TryAllocate_Exhausted_ReturnsFalse()
    {
        var a = new IovaAllocator(0, 4 * IovaAllocator.PageSize);
        Assert.True(a.TryAllocate(IovaAllocator.PageSize, out _));
        Assert.False(a.TryAllocate(2 * IovaAllocator.PageSize + 1, out _));
    }
}
