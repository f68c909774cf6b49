using NicScript.Driver.Time;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Dpu;

/// <summary>The switch on its own (the agent's checklist tests drive it through gRPC): what the data path costs per frame.</summary>
public sealed class DpuSwitchTests
{
    [Fact]
    public void The_frame_path_allocates_nothing_per_frame()
    {
        using Machine machine = DefaultMachine.Create();
        var dpu = new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance, new ManualClock());
        Assert.True(dpu.AddElasticNic(0, [2, 0x4e, 0x53, 0, 0, 0], 1500));
        var key = new DpuKey(0, 0, 0, 0, 4, [0x0A000002], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0x20000, 0x30000);
        dpu.Switch.Program([new DpuRule(1, key, 0, -1, 7)], [(7, uint.MaxValue, false)], [-1, -1], [1500, 1500], DpuBond.Off);
        Assert.True(machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        VirtioNetDriver host = VirtioNetDriver.BringUp(f, machine.Dma, machine.Dma.CreateOwner("host", 64 << 20), 256);
        using var wire = new FrameGenerator(dpu.Switch.OpticalWire(0));
        wire.Configure(new TrafficSpec { Destination = "10.0.0.2", Flows = 4 });
        var burst = new FrameBurst(host.Pool);
        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                wire.Send(32);
                while (host.RxPoll(burst) > 0) { }
            }
        }
        Run(100); // warm up: JIT, first-use paths
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1_000); // 32,000 frames: classified, metered, delivered, received
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_100 * 32, dpu.Switch.HostCounters(0)!.RxPacketsCount);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 32,000 frames");
    }

    /// <summary>vport 0 with its host driver, and a rule from it for 10.0.0.9 to optical port 1's wire, transmit queue 2,
    /// through meter 7 (100 packets/s, burst 16); the far end of each optical wire is a generator that counts.</summary>
    private sealed class ToOptical : IDisposable
    {
        public readonly ManualClock Clock = new();
        public readonly Machine Machine = DefaultMachine.Create();
        public readonly DpuDevice Dpu;
        public readonly VirtioNetDriver Host;
        public readonly FrameGenerator Uplink, Far;

        public ToOptical()
        {
            Dpu = new DpuDevice(Machine, new DpuConfig(), VirtioDpuFunctions.Instance, Clock);
            Assert.True(Dpu.AddElasticNic(0, [2, 0x4e, 0x53, 0, 0, 0], 1500));
            var key = new DpuKey(0, 0, 0, 0, 4, [0x0A000009], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7FFFFFFF);
            Dpu.Switch.Program([new DpuRule(1, key, DpuSwitch.OpticalBase + 1, 2, 7)], [(7, 100, true)], [-1, -1], [1500, 1500], DpuBond.Off);
            Assert.True(Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
            Host = VirtioNetDriver.BringUp(f, Machine.Dma, Machine.Dma.CreateOwner("host", 64 << 20), 256);
            Uplink = new FrameGenerator(Dpu.Switch.OpticalWire(0));
            Far = new FrameGenerator(Dpu.Switch.OpticalWire(1));
            Far.Configure(new TrafficSpec { Smac = "02:4e:53:00:00:00", Dmac = "04:00:00:00:00:09", Destination = "10.0.0.9", Size = 100 });
        }

        /// <summary>Sends <paramref name="count"/> copies of the far end's frame (to 10.0.0.9) from the host driver.</summary>
        public void Send(FrameBurst burst, int count)
        {
            while (count > 0)
            {
                int n = Math.Min(count, burst.Capacity);
                for (int i = 0; i < n; i++)
                {
                    if (burst.Slot(i) < 0) burst.Put(i, Host.Pool.TryRent(out int slot) ? slot : -1, 0);
                    Far.Frame(0).CopyTo(burst.Buffer(i));
                    burst.SetLength(i, Far.Frame(0).Length);
                }
                burst.Count = n;
                Assert.True(Host.Tx(burst) == n); // not Assert.Equal, which allocates a comparer per call
                count -= n;
            }
        }

        public void Dispose()
        {
            Uplink.Dispose();
            Far.Dispose();
            Machine.Dispose();
        }
    }

    [Fact]
    public void A_rule_to_an_optical_port_sends_the_green_frames_out_of_its_wire_and_counts_the_red()
    {
        using var t = new ToOptical();
        var burst = new FrameBurst(t.Host.Pool);
        Assert.True(burst.Fill());
        t.Send(burst, 100); // at one instant: the full bucket, 16, passes
        for (int i = 0; i < 50; i++)
        {
            t.Clock.AdvanceNs(10_000_000); // one packet's worth at 100 packets/s
            t.Send(burst, 2);
        }

        DpuMeter meter = t.Dpu.Switch.Meter(7)!;
        DpuOpticalCounters optical = t.Dpu.Switch.OpticalCounters(1);
        Assert.Equal((66L, 134L), (meter.PassPackets, meter.DropPackets));
        Assert.Equal(50L, meter.Credited);
        Assert.True(meter.PassPackets <= meter.Burst + meter.Credited); // what a test without a manual clock checks
        Assert.Equal(66L, t.Far.Received); // only the green frames left, and through optical port 1
        Assert.Equal((66L, 66L * 100), (optical.OPacketsCount, optical.OBytesCount));
        Assert.Equal([0L, 0L, 66L, 0L], optical.QOPacketsCounts); // on the rule's queue
        Assert.Equal((0L, 0L), (t.Uplink.Received, t.Dpu.Switch.OpticalCounters(0).OPacketsCount)); // not the uplink default forwarding uses
        Assert.Equal(0L, optical.OErrorsCount); // a red frame is the meter's drop, not a transmit error
        Assert.Equal(200L, t.Dpu.Switch.HostCounters(0)!.TxPacketsCount);
    }

    [Fact]
    public void A_rule_to_an_optical_port_whose_link_is_down_counts_oerrors()
    {
        using var t = new ToOptical();
        t.Dpu.Switch.OpticalWire(1).SetCarrier(false);
        var burst = new FrameBurst(t.Host.Pool);
        Assert.True(burst.Fill());
        t.Send(burst, 10);
        Assert.Equal((10L, 0L), (t.Dpu.Switch.OpticalCounters(1).OErrorsCount, t.Far.Received));
        Assert.Equal(10L, t.Dpu.Switch.Meter(7)!.PassPackets); // green, then the link could not take them
    }

    [Fact]
    public void The_path_to_an_optical_port_through_a_meter_allocates_nothing_per_frame()
    {
        using var t = new ToOptical();
        var burst = new FrameBurst(t.Host.Pool);
        Assert.True(burst.Fill());
        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                t.Clock.AdvanceNs(10_000_000); // one green frame, 31 red
                t.Send(burst, 32);
            }
        }
        Run(100); // warm up: JIT, first-use paths
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1_000); // 32,000 frames: classified, metered (green and red), out of the wire
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_100 * 32, t.Dpu.Switch.Meter(7)!.PassPackets + t.Dpu.Switch.Meter(7)!.DropPackets);
        Assert.Equal(16 + 1_099, t.Far.Received); // the burst, then one per step after the first (which finds the bucket full)
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 32,000 frames");
    }
    [Fact]
    public void A_single_frame_goes_the_burst_path_and_allocates_nothing()
    {
        using Machine machine = DefaultMachine.Create();
        var clock = new ManualClock();
        var dpu = new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance, clock);
        Assert.True(dpu.AddElasticNic(0, [2, 0x4e, 0x53, 0, 0, 0], 1500));
        Assert.True(machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        VirtioNetDriver host = VirtioNetDriver.BringUp(f, machine.Dma, machine.Dma.CreateOwner("host", 64 << 20), 256);
        using var wire = new FrameGenerator(dpu.Switch.OpticalWire(0));
        wire.Configure(new TrafficSpec { Dmac = "02:4e:53:00:00:00", Flows = 4 }); // no rules: default forwarding by MAC
        var burst = new FrameBurst(host.Pool);
        long received = 0;
        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                wire.SendPaced(32, 1e6, clock); // frame by frame: each its own Receive, a burst of one
                int n;
                while ((n = host.RxPoll(burst)) > 0) received += n;
            }
        }
        Run(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        DpuPortCounters c = dpu.Switch.HostCounters(0)!;
        Assert.Equal((1_100L * 32, 0L), (c.RxPacketsCount, c.RxDropCount));
        Assert.Equal(1_100L * 32, received);
        Assert.Equal(1_100L * 32, dpu.Switch.OpticalCounters(0).IPacketsCount);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 32,000 frames");
    }

    [Fact]
    public void Two_cables_on_two_threads_share_a_meter_and_keep_every_counter()
    {
        using Machine machine = DefaultMachine.Create();
        var dpu = new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance, new ManualClock()); // time stands still: the meter passes its burst, no more
        DpuKey From(int port) => new(0, 0, 0, 0, 4, [0x0A000002], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, DpuSwitch.OpticalBase + port, 0x7FFFFFFF);
        var hosts = new VirtioNetDriver[2];
        var wires = new FrameGenerator[2];
        for (int v = 0; v < 2; v++)
        {
            Assert.True(dpu.AddElasticNic((uint)v, [2, 0x4e, 0x53, 0, 0, (byte)v], 1500));
            Assert.True(machine.Pci.TryGet(DpuDevice.ElasticNicAddress((uint)v), out PciFunction f));
            hosts[v] = VirtioNetDriver.BringUp(f, machine.Dma, machine.Dma.CreateOwner($"host{v}", 64 << 20), 256);
            wires[v] = new FrameGenerator(dpu.Switch.OpticalWire(v));
            wires[v].Configure(new TrafficSpec { Destination = "10.0.0.2", Flows = 8 });
        }
        // optical 0 -> vport 0, optical 1 -> vport 1, both through meter 7 (packets, burst 1000)
        DpuRule[] rules = [new DpuRule(1, From(0), 0, -1, 7), new DpuRule(2, From(1), 1, -1, 7)];
        dpu.Switch.Program(rules, [(7, 100_000, true)], [-1, -1], [1500, 1500], DpuBond.Off);
        const int Rounds = 2_000, Burst = 32;
        var received = new long[2];
        Thread[] threads = [.. Enumerable.Range(0, 2).Select(v => new Thread(() =>
        {
            var burst = new FrameBurst(hosts[v].Pool);
            for (int i = 0; i < Rounds; i++)
            {
                wires[v].Send(Burst);
                int n;
                while ((n = hosts[v].RxPoll(burst)) > 0) received[v] += n;
            }
        }))];
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) t.Join();

        const long Each = Rounds * Burst;
        DpuMeter meter = dpu.Switch.Meter(7)!;
        Assert.Equal(2 * Each, meter.PassPackets + meter.DropPackets);
        Assert.Equal(meter.Burst, meter.PassPackets); // exactly the bucket, taken by both cables together
        Assert.Equal(meter.PassPackets, received[0] + received[1]);
        for (int v = 0; v < 2; v++)
        {
            Assert.Equal((Each, Each * 64), (rules[v].HitPackets, rules[v].HitBytes));
            Assert.Equal(Each, dpu.Switch.OpticalCounters(v).IPacketsCount);
            Assert.Equal(Each * 64, dpu.Switch.OpticalCounters(v).IBytesCount);
            Assert.Equal(Each, dpu.Switch.OpticalCounters(v).QIPacketsCounts.Sum());
            DpuPortCounters c = dpu.Switch.HostCounters((uint)v)!;
            Assert.Equal(received[v], c.RxPacketsCount);
            Assert.Equal(Each, c.RxPacketsCount + c.RxDropCount); // red frames are the target's rx_drop
        }
        foreach (FrameGenerator w in wires) w.Dispose();
    }
}
