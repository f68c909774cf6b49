using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.VirtioNet;

public sealed class VirtioNetMultiqueueTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly DmaOwner _owner;
    private readonly VirtioNetDevice _device;

    public VirtioNetMultiqueueTests()
    {
        _owner = _memory.CreateOwner("driver", 64 << 20);
        _device = new VirtioNetDevice(new PciAddress(0, 1, 0, 0), new IommuDomain(_memory, "0000:01:00.0"), new IrqLine(5), [2, 0, 0, 0, 0, 1], null, 1500, VirtioPci.ModernNetDeviceId,
            maxPairs: 4, pairCapacity: 8, features: VirtioNetDevice.Implemented);
    }

    public void Dispose() => _memory.Dispose();

    private static byte[] Frame(byte tag)
    {
        var f = new byte[64];
        f[0] = 2;
        f[13] = tag;
        return f;
    }

    private static List<byte> Tags(VirtioNetDriver d, int pair)
    {
        var burst = new FrameBurst(d.Pool);
        var tags = new List<byte>();
        int n = d.RxPoll(burst, pair);
        for (int i = 0; i < n; i++) tags.Add(burst.Frame(i)[13]);
        burst.Release();
        return tags;
    }

    [Fact]
    public void VQ_PAIRS_SET_enables_the_pairs_and_each_receive_queue_gets_its_own_frames()
    {
        Assert.Equal(0, _device.ActivePairs);
        VirtioNetDriver d = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64, pairs: 3);
        Assert.Equal(3, _device.ActivePairs);
        Assert.True(_device.Deliver(Frame(1), 0));
        Assert.True(_device.Deliver(Frame(3), 2));
        Assert.False(_device.Deliver(Frame(4), 3)); // a pair the driver did not enable
        Assert.Equal([1], Tags(d, 0));
        Assert.Empty(Tags(d, 1));
        Assert.Equal([3], Tags(d, 2));
        Assert.Equal(1, _device.Stats.RxDroppedCount);
    }

    [Fact]
    public void Without_MQ_one_pair_carries_everything()
    {
        VirtioNetDriver d = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64);
        Assert.Equal(0ul, d.Features & 1UL << VirtioPci.FeatureMq);
        Assert.Equal(1, _device.ActivePairs);
        Assert.False(_device.Deliver(Frame(1), 1));
        Assert.True(_device.Deliver(Frame(2), 0));
        Assert.Equal([2], Tags(d, 0));
    }

    [Fact]
    public void More_pairs_than_offered_is_refused_and_a_new_limit_needs_a_reset()
    {
        Assert.Throws<VirtioDriverException>(() => VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64, pairs: 5));
        VirtioNetDriver d = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64, pairs: 4);
        Assert.True(_device.Renegotiate(2, null));
        Assert.True(_device.NeedsReset);
        Assert.Equal(4, _device.ActivePairs); // until the driver resets
        Assert.False(_device.Renegotiate(2, null));
        d.Shutdown(_memory, _owner);
        Assert.Equal(0, _device.ActivePairs);
        VirtioNetDriver again = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64, pairs: 2);
        Assert.Equal(2, _device.ActivePairs);
        Assert.Equal(2, again.Pairs);
    }

    [Fact]
    public void A_bad_transmit_buffer_is_a_frame_error_when_asked_and_a_reset_otherwise()
    {
        VirtioNetDriver d = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64);
        _device.BadTxBufferIsFrameError = true;
        Assert.True(d.TxRaw(0x10, 72));
        Assert.Equal((1, false), (_device.Stats.TxErrorsCount, _device.NeedsReset));
        _device.BadTxBufferIsFrameError = false;
        Assert.True(d.TxRaw(0x10, 72));
        Assert.True(_device.NeedsReset);
    }

    [Fact]
    public void On_a_loopback_wire_each_pair_gets_back_what_it_sent()
    {
        using Link wire = Links.Loopback();
        _device.Connect(wire);
        VirtioNetDriver d = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, 64, pairs: 4);
        for (int pair = 0; pair < 4; pair++)
        {
            var burst = new FrameBurst(d.Pool);
            burst.Fill();
            burst.Count = 2;
            for (int i = 0; i < 2; i++)
            {
                burst.SetLength(i, 64);
                Frame((byte)(10 * pair + i)).CopyTo(burst.Frame(i));
            }
            Assert.Equal(2, d.Tx(burst, pair));
            burst.Release();
        }
        // automatic receive steering (virtio 1.2 5.1.6.5.5): a flow comes back on the receive queue of the pair it was sent on
        for (int pair = 0; pair < 4; pair++) Assert.Equal([(byte)(10 * pair), (byte)(10 * pair + 1)], Tags(d, pair));
        Assert.Equal(0, _device.Stats.RxDroppedCount);
    }

    [Fact]
    public void A_jumbo_MTU_gets_frame_buffers_that_hold_a_9000_byte_frame()
    {
        using Link wire = Links.Loopback();
        var jumbo = new VirtioNetDevice(new PciAddress(0, 2, 0, 0), new IommuDomain(_memory, "0000:02:00.0"), new IrqLine(6), [2, 0, 0, 0, 0, 2], mtu: 9000);
        jumbo.Connect(wire);
        VirtioNetDriver d = VirtioNetDriver.BringUp(jumbo.Function, _memory, _owner, 64);
        Assert.Equal(9000, d.ConfigMtu);
        Assert.True(d.Pool.MaxFrame >= 9000 + 18);
        var burst = new FrameBurst(d.Pool);
        burst.Fill();
        burst.Count = 1;
        burst.SetLength(0, 9000);
        Span<byte> f = burst.Frame(0);
        Frame(7).CopyTo(f);
        f[8999] = 0xA5;
        Assert.Equal(1, d.Tx(burst));
        burst.Release();
        var back = new FrameBurst(d.Pool);
        Assert.Equal(1, d.RxPoll(back));
        Assert.Equal((9000, (byte)7, (byte)0xA5), (back.Length(0), back.Frame(0)[13], back.Frame(0)[8999]));
        Assert.Equal((0L, 0L), (d.RxOversize, jumbo.Stats.RxErrorsCount + jumbo.Stats.TxErrorsCount));
        back.Release();
    }

    [Fact]
    public void The_standard_MTU_keeps_2_KiB_frame_buffers() =>
        Assert.Equal((2048, 2048, 9216), (VirtioNetDriver.SlotSizeFor(VirtioNetDriver.StandardMtu), VirtioNetDriver.SlotSizeFor(0), VirtioNetDriver.SlotSizeFor(9000)));

    [Theory]
    [InlineData(1500, 64)]
    [InlineData(9000, 9000)]
    public void Forwarding_over_every_pair_of_a_loopback_allocates_nothing_per_frame(int mtu, int frameBytes)
    {
        using Link wire = Links.Loopback();
        var device = new VirtioNetDevice(new PciAddress(0, 3, 0, 0), new IommuDomain(_memory, "0000:03:00.0"), new IrqLine(7), [2, 0, 0, 0, 0, 3], null, (ushort)mtu,
            VirtioPci.ModernNetDeviceId, maxPairs: 4, pairCapacity: 4, features: VirtioNetDevice.Implemented);
        device.Connect(wire);
        VirtioNetDriver d = VirtioNetDriver.BringUp(device.Function, _memory, _owner, 64, pairs: 4);
        var bursts = new FrameBurst[4];
        for (int p = 0; p < 4; p++)
        {
            bursts[p] = new FrameBurst(d.Pool, 8);
            Assert.True(bursts[p].Fill());
            for (int i = 0; i < 8; i++) bursts[p].SetLength(i, frameBytes);
            bursts[p].Count = 8;
        }
        long frames = 0;
        void Round()
        {
            for (int p = 0; p < 4; p++)
            {
                d.Tx(bursts[p], p);
                frames += d.RxPoll(bursts[p], p);
            }
        }
        for (int i = 0; i < 8; i++) Round(); // every call made once before the count (type loading, tiering)
        frames = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(200 * 4 * 8, frames); // what went out on a pair came back on it, every round
    }
}
