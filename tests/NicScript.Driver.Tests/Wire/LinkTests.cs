using System.Buffers.Binary;
using NicScript.Driver.Time;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

public sealed class LinkTests
{
    internal static byte[] Ether(byte dst, byte src, int length = 64, byte fill = 0)
    {
        var f = new byte[length];
        f.AsSpan().Fill(fill);
        f[0] = 0x02; f[5] = dst;   // locally administered unicast
        f[6] = 0x02; f[11] = src;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x88B5); // local experimental ethertype
        return f;
    }

    [Fact]
    public void Loopback_FrameComesBackToTheSender()
    {
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        port.Transmit(Ether(1, 1));
        Assert.Single(rx.Frames);
        Assert.Equal((1, 1), (port.TxFrames, port.RxFrames));
        Assert.Throws<InvalidOperationException>(() => link.Attach(new Collector()));
    }

    [Fact]
    public void Pair_FrameGoesToTheOtherEndOnly()
    {
        var a = new Collector();
        var b = new Collector();
        using Link link = Links.Pair();
        WirePort pa = link.Attach(a);
        link.Attach(b);
        pa.Transmit(Ether(2, 1));
        Assert.Empty(a.Frames);
        Assert.Single(b.Frames);
    }

    [Fact]
    public void Switch_LearnsSourcesAndForwardsKnownUnicastToOnePort()
    {
        var rx = Enumerable.Range(0, 3).Select(_ => new Collector()).ToArray();
        using Link sw = Links.Switch(ports: 3);
        WirePort[] ports = rx.Select(r => sw.Attach(r)).ToArray();
        ports[0].Transmit(Ether(dst: 2, src: 1)); // unknown destination: flooded to 1 and 2
        Assert.Equal([0, 1, 1], rx.Select(r => r.Frames.Count));
        ports[1].Transmit(Ether(dst: 1, src: 2)); // MAC 1 was learned on port 0
        Assert.Equal([1, 1, 1], rx.Select(r => r.Frames.Count));
        ports[0].Transmit(Ether(dst: 2, src: 1)); // MAC 2 now known on port 1
        Assert.Equal([1, 2, 1], rx.Select(r => r.Frames.Count));
    }

    [Fact]
    public void CarrierDown_DropsAndCounts()
    {
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        link.SetCarrier(false);
        port.Transmit(Ether(1, 1));
        Assert.Empty(rx.Frames);
        Assert.Equal(1, link.DroppedNoCarrier);
    }

    private static (FaultInjector Faults, Collector Rx) RunFaults(FaultSettings settings, int frames, IClock? clock = null)
    {
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        var faults = new FaultInjector(settings, clock);
        link.InjectFaults(faults);
        for (int i = 0; i < frames; i++)
        {
            byte[] f = Ether(1, 1);
            BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(20), i);
            port.Transmit(f);
        }
        link.Dispose(); // drops anything still held
        return (faults, rx);
    }

    [Fact]
    public void Drop_RateWithinToleranceForFixedSeed_AndReproducible()
    {
        var (faults, rx) = RunFaults(new FaultSettings(Drop: 0.1, Seed: 7), 10_000);
        Assert.InRange(faults.Dropped, 900, 1100);
        Assert.Equal(10_000 - faults.Dropped, rx.Frames.Count);
        var (again, _) = RunFaults(new FaultSettings(Drop: 0.1, Seed: 7), 10_000);
        Assert.Equal(faults.Dropped, again.Dropped);
    }

    [Fact]
    public void Corrupt_FlipsExactlyOneBitPerCorruptedFrame()
    {
        var (faults, rx) = RunFaults(new FaultSettings(Corrupt: 0.05, Seed: 3), 4000);
        Assert.InRange(faults.Corrupted, 150, 250);
        int changed = 0;
        foreach (byte[] f in rx.Frames)
        {
            byte[] clean = Ether(1, 1);
            BinaryPrimitives.WriteInt32BigEndian(clean.AsSpan(20), BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(20)));
            int bits = f.Zip(clean, (x, y) => System.Numerics.BitOperations.PopCount((uint)(x ^ y))).Sum();
            if (bits > 0) changed++;
            Assert.True(bits <= 2); // one flip (a flip inside the sequence number reads as another frame's)
        }
        Assert.InRange(changed, faults.Corrupted * 85 / 100, faults.Corrupted); // a flip inside the sequence number is invisible here
    }

    [Fact]
    public void Duplicate_DeliversTwice()
    {
        var (faults, rx) = RunFaults(new FaultSettings(Duplicate: 0.2, Seed: 11), 5000);
        Assert.InRange(faults.Duplicated, 900, 1100);
        Assert.Equal(5000 + faults.Duplicated, rx.Frames.Count);
    }

    [Fact]
    public void Reorder_SwapsAFrameWithItsSuccessor_LosesNothing()
    {
        var (faults, rx) = RunFaults(new FaultSettings(Reorder: 0.1, Seed: 5), 5000);
        Assert.InRange(faults.Reordered, 400, 600);
        int[] seq = rx.Frames.Select(f => BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(20))).ToArray();
        Assert.Equal(5000, seq.Length);
        Assert.Equal(Enumerable.Range(0, 5000), seq.Order());
        Assert.InRange(seq.Zip(seq.AsEnumerable().Skip(1)).Count(p => p.First > p.Second), faults.Reordered / 2, faults.Reordered);
    }

    [Fact]
    public void Delay_HoldsFramesUntilDue_ThenReleasesThem()
    {
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        var clock = new ManualClock(); // stepped: the frame is due after exactly 30 ms of it, however slow the machine
        var faults = new FaultInjector(new FaultSettings(Delay: 1.0, Seed: 1, DelayTime: TimeSpan.FromMilliseconds(30)), clock);
        link.InjectFaults(faults);
        port.Transmit(Ether(1, 1));
        Assert.Empty(rx.Frames);
        Assert.Equal(1, faults.Holding);
        clock.AdvanceNs(30_000_000 - 1);
        link.Poll();
        Assert.Empty(rx.Frames);
        clock.AdvanceNs(1);
        link.Poll();
        Assert.Single(rx.Frames);
        Assert.Equal(0, faults.Holding);
    }

    [Fact]
    public void Delay_RateWithinTolerance_AndFramesStillHeldWhenTheWireClosesAreDroppedNotDelivered()
    {
        // The clock never moves: every delayed frame is still held when the wire closes. Its receivers are going away with
        // the machine (a driver's buffers already freed), so a held frame is dropped and counted, never delivered.
        var (faults, rx) = RunFaults(new FaultSettings(Delay: 0.1, Seed: 13, DelayTime: TimeSpan.FromSeconds(10)), 4000, new ManualClock());
        Assert.InRange(faults.Delayed, 340, 460);
        Assert.Equal(faults.Delayed, faults.Dropped);
        Assert.Equal(4000 - faults.Delayed, rx.Frames.Count);
        int[] seq = rx.Frames.Select(f => BinaryPrimitives.ReadInt32BigEndian(f.AsSpan(20))).ToArray();
        Assert.Equal(seq.Length, seq.Distinct().Count());
    }

    [Fact]
    public void FaultSettings_RateOutsideZeroOne_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new FaultInjector(new FaultSettings(Drop: 1.5)));
}
