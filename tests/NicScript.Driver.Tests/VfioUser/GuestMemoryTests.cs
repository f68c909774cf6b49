using NicScript.Driver.Memory;
using NicScript.Driver.VfioUser;
using Microsoft.Win32.SafeHandles;

namespace NicScript.Driver.Tests.VfioUser;

public sealed class GuestMemoryTests : IDisposable
{
    private readonly GuestMemory _guest = new("0000:00:1f.0");

    public void Dispose() => _guest.Dispose();

    private static SafeFileHandle Handle(GuestRam ram) => new(ram.Fd, ownsHandle: false);

    [Fact]
    public void TryMap_DeviceReachesTheGuestsBytesAtTheGuestsAddresses()
    {
        using var ram = new GuestRam(1 << 20);
        Assert.Equal(0, _guest.TryMap(Handle(ram), 0x10000, 0x200000, 0x20000, writable: true, out _));
        ram.Bytes[0x10000 + 0x123] = 0x5A;
        Span<byte> b = stackalloc byte[1];
        Assert.Equal(DmaError.None, _guest.Domain.TryRead(0x200123, b));
        Assert.Equal(0x5A, b[0]);
        Assert.Equal(DmaError.None, _guest.Domain.TryWrite(0x200124, [0xA5]));
        Assert.Equal(0xA5, ram.Bytes[0x10000 + 0x124]); // the guest sees the device's write: the mapping is shared
    }

    [Fact]
    public void TryMap_MoreThanARegionMayHold_IsSplitAndEveryPartIsReachable()
    {
        const long size = DmaMemory.MaxRegionBytes + (1L << 20); // 1 GiB + 1 MiB of a sparse memfd: untouched pages cost nothing
        using var ram = new GuestRam((int)Math.Min(size, int.MaxValue));
        Assert.Equal(0, _guest.TryMap(Handle(ram), 0, 0x1_0000_0000, (ulong)size, writable: true, out _));
        Assert.Equal(2, _guest.Mappings.Single().Regions.Length);
        Span<byte> b = stackalloc byte[8];
        Assert.Equal(DmaError.None, _guest.Domain.TryRead(0x1_0000_0000 + (ulong)size - 8, b));
        Assert.Equal(DmaError.None, _guest.Domain.TryRead(0x1_0000_0000, b));
    }

    [Fact]
    public void ReleaseAll_AfterUnmap_LeavesNoMappingAndNoRegion()
    {
        using var ram = new GuestRam(1 << 20);
        Assert.Equal(0, _guest.TryMap(Handle(ram), 0, 0, 0x10000, writable: true, out _));
        Assert.Equal(0, _guest.TryMap(Handle(ram), 0x10000, 0x10000, 0x10000, writable: false, out _));
        Assert.Equal(0, _guest.TryUnmap(0, 0x10000, out _));
        _guest.ReleaseAll();
        Assert.Empty(_guest.Mappings);
        Assert.Empty(_guest.Memory.Regions);
    }

    [Fact]
    public void DeviceAccessRacingAnUnmap_FaultsOrReadsButNeverCrashes()
    {
        using var ram = new GuestRam(1 << 20);
        using var stop = new CancellationTokenSource();
        long reads = 0, faults = 0;
        var device = new Thread(() =>
        {
            var b = new byte[64];
            while (!stop.IsCancellationRequested)
            {
                if (_guest.Domain.TryRead(0x8000, b) == DmaError.None) reads++;
                else faults++;
            }
        });
        device.Start();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(0, _guest.TryMap(Handle(ram), 0, 0, 0x10000, writable: true, out _));
            Assert.Equal(0, _guest.TryUnmap(0, 0x10000, out _));
        }
        stop.Cancel();
        device.Join();
        _guest.ReleaseAll();
        Assert.True(reads + faults > 0);
        Assert.Equal(faults, _guest.Domain.Faults);
    }
}
