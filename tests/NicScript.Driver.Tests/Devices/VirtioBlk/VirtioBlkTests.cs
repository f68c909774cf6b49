using NicScript.Driver.Devices.Virtio;
using System.Diagnostics;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using Blk = NicScript.Driver.Devices.VirtioBlk.VirtioBlk;

namespace NicScript.Driver.Tests.Devices.VirtioBlk;

public sealed class VirtioBlkTests : IDisposable
{
    private sealed class Faults : IDeviceEvents
    {
        public readonly List<DeviceFault> Got = new();
        public void Fault(DeviceFault fault) => Got.Add(fault);
    }

    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _owner;
    private readonly IrqLine _line = new(6);
    private readonly Faults _faults = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("nicscript-blk-").FullName;
    private readonly List<VirtioBlkDevice> _devices = new();

    public VirtioBlkTests() => _owner = _memory.CreateOwner("disk-driver", 64 << 20);

    public void Dispose()
    {
        foreach (VirtioBlkDevice d in _devices) d.Dispose();
        _memory.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string File(string name = "disk.img") => Path.Combine(_dir, name);

    private VirtioBlkDevice Disk(string name = "root", ulong sectors = 0, int queues = 1, bool create = true, string file = "disk.img")
    {
        var address = new PciAddress(0, 2, (byte)_devices.Count, 0);
        var d = new VirtioBlkDevice(address, new IommuDomain(_memory, address.ToString(), _faults), _line, name, File(file), create, sectors, queues, 128,
            queues + 1, _faults);
        _devices.Add(d);
        return d;
    }

    private VirtioBlkDriver Up(VirtioBlkDevice d, int queues = 1) => VirtioBlkDriver.BringUp(d.Function, _memory, _owner, queues);

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void A_new_disk_is_1af4_1042_with_capacity_0_and_answers_GET_ID_with_its_name()
    {
        VirtioBlkDevice d = Disk("root");
        Assert.Equal((ushort)0x1af4, d.Function.VendorId);
        Assert.Equal((ushort)0x1042, d.Function.DeviceId);
        Assert.Equal(VirtioBlkState.Idle, d.State);
        VirtioBlkDriver drv = Up(d);
        Assert.Equal(0UL, drv.Capacity);
        Assert.Equal("root", drv.GetId());
        Assert.Equal(VirtioBlkState.Running, d.State);
        Assert.NotEqual(0UL, drv.Features & 1UL << Blk.FeatureFlush);
        Assert.Equal(0UL, drv.Features & 1UL << Blk.FeatureMq); // one queue: MQ not offered
    }

    [Fact]
    public void GET_ID_gives_the_first_20_bytes_of_a_longer_name()
    {
        VirtioBlkDriver drv = Up(Disk("a-very-long-disk-name-of-40-characters-xx"));
        Assert.Equal("a-very-long-disk-nam", drv.GetId());
    }

    [Fact]
    public void A_write_lands_in_the_backing_file_and_reads_back()
    {
        VirtioBlkDevice d = Disk(sectors: 2048);
        VirtioBlkDriver drv = Up(d);
        byte[] data = Pattern(4096, 1);
        Assert.Equal(Blk.StatusOk, drv.Write(100, data));
        var back = new byte[4096];
        Assert.Equal(Blk.StatusOk, drv.Read(100, back));
        Assert.Equal(data, back);
        Assert.Equal(Blk.StatusOk, drv.Read(99, back.AsSpan(0, 512)));
        Assert.All(back[..512], b => Assert.Equal(0, b)); // never written: zeros
        Assert.Equal(1, d.Stats.WritesCount);
        Assert.Equal(4096, d.Stats.WrittenBytesCount);
        d.Dispose();
        byte[] file = System.IO.File.ReadAllBytes(File());
        Assert.Equal(2048 * 512, file.Length);
        Assert.Equal(data, file.AsSpan(100 * 512, 4096).ToArray());
    }

    [Fact]
    public void Reads_and_writes_past_the_end_or_not_whole_sectors_fail_with_IOERR()
    {
        VirtioBlkDevice d = Disk(sectors: 16);
        VirtioBlkDriver drv = Up(d);
        var buf = new byte[1024];
        Assert.Equal(Blk.StatusOk, drv.Read(15, buf.AsSpan(0, 512)));
        Assert.Equal(Blk.StatusIoErr, drv.Read(16, buf.AsSpan(0, 512)));
        Assert.Equal(Blk.StatusIoErr, drv.Read(15, buf)); // crosses the end
        Assert.Equal(Blk.StatusIoErr, drv.Write(ulong.MaxValue, buf)); // sector arithmetic must not wrap
        Assert.Equal(Blk.StatusIoErr, drv.Write(0, buf.AsSpan(0, 100)));
        Assert.Equal(4, d.Stats.IoErrorsCount);
        Assert.Empty(_faults.Got); // a bad request is an error status, not a device fault
    }

    [Fact]
    public void An_unknown_request_type_completes_UNSUPP()
    {
        VirtioBlkDriver drv = Up(Disk(sectors: 16));
        Assert.True(drv.TrySubmit(0, Blk.TypeDiscard, 0, 16, out int tag));
        Assert.True(drv.TryComplete(0, out int done, out byte status));
        Assert.Equal(tag, done);
        Assert.Equal(Blk.StatusUnsupp, status);
    }

    [Fact]
    public void Resize_grows_the_disk_and_raises_the_config_interrupt_once()
    {
        VirtioBlkDevice d = Disk(sectors: 0);
        VirtioBlkDriver drv = Up(d);
        drv.AckInterrupt();
        Assert.True(d.Resize(2_097_152));
        Assert.True(_line.Asserted);
        Assert.Equal(2, drv.AckInterrupt() & 2);
        Assert.Equal(2_097_152UL, drv.Capacity);
        var sector = new byte[512];
        Assert.Equal(Blk.StatusOk, drv.Read(2_097_151, sector));
        Assert.All(sector, b => Assert.Equal(0, b));
        Assert.Equal(Blk.StatusIoErr, drv.Read(2_097_152, sector));

        Assert.False(d.Resize(2_097_152)); // same size: nothing happens
        Assert.Equal(0, drv.AckInterrupt());
        Assert.Throws<ArgumentException>(() => d.Resize(1024));
        Assert.Equal(2_097_152UL, drv.Capacity);
    }

    [Fact]
    public void The_backing_file_is_sparse()
    {
        VirtioBlkDevice d = Disk(sectors: 0);
        d.Resize(1UL << 21); // 1 GiB
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%b %B", File()]) { RedirectStandardOutput = true })!;
        string[] got = stat.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.TrimEntries);
        stat.WaitForExit();
        long allocated = long.Parse(got[0]) * long.Parse(got[1]);
        Assert.Equal(1L << 30, new FileInfo(File()).Length);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated for an empty 1 GiB disk");
    }

    [Fact]
    public void Flush_completes_OK_and_is_counted()
    {
        VirtioBlkDevice d = Disk(sectors: 8);
        VirtioBlkDriver drv = Up(d);
        Assert.Equal(Blk.StatusOk, drv.Write(0, Pattern(512, 2)));
        Assert.Equal(Blk.StatusOk, drv.Flush());
        Assert.Equal(1, d.Stats.FlushesCount);
    }

    [Fact]
    public void A_paused_disk_leaves_requests_in_the_ring_and_serves_them_on_resume()
    {
        VirtioBlkDevice d = Disk(sectors: 64);
        VirtioBlkDriver drv = Up(d);
        drv.Write(3, Pattern(512, 3));
        Assert.True(d.Pause(true));
        Assert.False(d.Pause(true)); // already paused
        Assert.Equal(VirtioBlkState.Paused, d.State);
        for (int i = 0; i < 4; i++) Assert.True(drv.TrySubmit(0, Blk.TypeIn, 3, 512, out _));
        Assert.False(drv.TryComplete(0, out _, out _));
        Assert.Equal(4, drv.InFlight(0));
        Assert.Throws<VirtioDriverException>(() => drv.Flush()); // the synchronous path says why it cannot go on

        Assert.True(d.Pause(false));
        int completed = 0;
        while (drv.TryComplete(0, out int tag, out byte status))
        {
            Assert.Equal(Blk.StatusOk, status);
            Assert.Equal(Pattern(512, 3), drv.Data(0, tag)[..512].ToArray());
            completed++;
        }
        Assert.Equal(4, completed);
        Assert.Equal(VirtioBlkState.Running, d.State);
    }

    [Fact]
    public void Four_queues_need_MQ_and_each_serves_requests()
    {
        VirtioBlkDevice d = Disk(sectors: 64, queues: 4);
        VirtioBlkDriver drv = Up(d, queues: 4);
        Assert.NotEqual(0UL, drv.Features & 1UL << Blk.FeatureMq);
        Assert.Equal(4, d.EnabledQueues);
        for (int q = 0; q < 4; q++) Assert.Equal(Blk.StatusOk, drv.Write((ulong)q, Pattern(512, q), q));
        var back = new byte[512];
        Assert.Equal(Blk.StatusOk, drv.Read(3, back, queue: 1));
        Assert.Equal(Pattern(512, 3), back);
        Assert.Throws<VirtioDriverException>(() => Up(Disk(sectors: 8, file: "b.img"), queues: 2)); // one-queue device
    }

    [Fact]
    public void State_is_error_once_the_device_needs_a_reset_and_idle_again_after_reset()
    {
        VirtioBlkDevice d = Disk(sectors: 8);
        VirtioBlkDriver drv = Up(d);
        d.Function.WriteBar(VirtioPci.ModernBar, VirtioPci.NotifyOffset + 7 * VirtioPci.NotifyMultiplier, 2, 7); // past num_queues: ignored
        Assert.Equal(VirtioBlkState.Running, d.State);
        d.Function.WriteBar(VirtioPci.ModernBar, VirtioPci.CommonOffset + VirtioPci.DeviceStatus, 1, (ulong)(drv.DeviceStatus | VirtioPci.StatusFailed));
        Assert.Equal(VirtioBlkState.Error, d.State);
        drv.Shutdown(_memory, _owner);
        Assert.Equal(VirtioBlkState.Idle, d.State);
        Assert.Equal(0, d.EnabledQueues);
    }

    [Fact]
    public void Reopening_keeps_the_data_and_creating_starts_empty()
    {
        VirtioBlkDevice first = Disk(sectors: 16);
        Up(first).Write(5, Pattern(512, 5));
        first.Dispose();
        VirtioBlkDriver again = Up(Disk(sectors: 16, create: false));
        var back = new byte[512];
        again.Read(5, back);
        Assert.Equal(Pattern(512, 5), back);
        _devices[^1].Dispose();
        VirtioBlkDriver fresh = Up(Disk(sectors: 16, create: true));
        fresh.Read(5, back);
        Assert.All(back, b => Assert.Equal(0, b));
    }
}
