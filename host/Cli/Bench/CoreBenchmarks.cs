using NicScript.Driver.Devices.Virtio;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using NicScript.Driver;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;
using NicScript.Driver.Wire;

using NicScript.Host.Scripting;

namespace NicScript.Host.Cli.Bench;

/// <summary>The driver core measured without scripts: full descriptor path on loopback, and the bare ring.</summary>
public static class CoreBenchmarks
{
    /// <summary>TX burst → doorbell → device reads descriptors, copies to the loopback wire → RX buffers → used ring → RxPoll, and round again.</summary>
    public static BenchResult Loopback(int frameBytes, TimeSpan duration)
    {
        var (packets, seconds, cpuSeconds, _) = ForwardOnLoopback(frameBytes, duration, mtu: 1500);
        return Row("loopback", "core", frameBytes, packets, seconds) with { CpuSeconds = cpuSeconds };
    }

    /// <summary>The jumbo MTU the frame-size curve runs at, so that 64 B to 9000 B frames go through one device and one set of buffers.</summary>
    public const ushort CurveMtu = 9000;

    /// <summary>The frame-size curve's point: <see cref="Loopback(int, TimeSpan)"/> on a device with MTU <see cref="CurveMtu"/>
    /// (VIRTIO_NET_F_MTU), whose driver sizes its frame buffers to hold a full frame (9216 B slots).</summary>
    public static BenchResult LoopbackFrameCurve(int frameBytes, TimeSpan duration)
    {
        var (packets, seconds, cpuSeconds, slotSize) = ForwardOnLoopback(frameBytes, duration, CurveMtu);
        return Row("loopback", "core", frameBytes, packets, seconds, $"MTU {CurveMtu} ({slotSize} B buffers), {cpuSeconds * 1e9 / Math.Max(1, packets):0} ns CPU/frame")
            with { CpuSeconds = cpuSeconds, Family = "curve frame" };
    }

    /// <summary>The loop both rows measure, on a fresh virtio-net of <paramref name="mtu"/> with a loopback wire: testpmd's io
    /// forwarding on a loopback port — what came back is sent again, zero copy, one burst object — after a warm-up.</summary>
    private static (long Packets, double Seconds, double CpuSeconds, int SlotSize) ForwardOnLoopback(int frameBytes, TimeSpan duration, ushort mtu)
    {
        using var memory = new DmaMemory();
        DmaOwner owner = memory.CreateOwner("bench", 64 << 20);
        using Link wire = Links.Loopback();
        var address = new PciAddress(0, 0, 0x1f, 0);
        var device = new VirtioNetDevice(address, new IommuDomain(memory, address.ToString()), new IrqLine(11), [0x52, 0x54, 0, 0, 0, 1], mtu: mtu);
        device.Connect(wire);
        VirtioNetDriver driver = VirtioNetDriver.BringUp(device.Function, memory, owner);
        var burst = new FrameBurst(driver.Pool);
        burst.Fill();
        for (int i = 0; i < burst.Capacity; i++) burst.SetLength(i, frameBytes);
        burst.Count = burst.Capacity;
        WarmUp(() => { driver.Tx(burst); driver.RxPoll(burst); });
        var clock = Stopwatch.StartNew();
        long cpu0 = ThreadCpuClock.ReadCurrentThreadNs();
        long packets = ForwardUntil(driver, burst, clock, (long)(duration.TotalSeconds * Stopwatch.Frequency));
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (ThreadCpuClock.ReadCurrentThreadNs() - cpu0) / 1e9;
        if (device.NeedsReset || driver.RxOversize != 0) throw new InvalidOperationException("the bench broke the device: " + device.ResetReason);
        return (packets, seconds, cpuSeconds, driver.Pool.SlotSize);
    }

    /// <summary>The queue-pair curve's point: a multiqueue virtio-net (8 pairs offered, MQ and the control queue negotiated)
    /// with <paramref name="pairs"/> enabled by VQ_PAIRS_SET, each pair's burst forwarded in turn by this one thread: each pair
    /// has its own rings, doorbells and used-ring publishes, so what more pairs cost on one core is what shows.</summary>
    public static BenchResult LoopbackPairs(int pairs, TimeSpan duration)
    {
        const int Offered = 8, FrameBytes = 64;
        using var memory = new DmaMemory();
        DmaOwner owner = memory.CreateOwner("bench", 64 << 20);
        using Link wire = Links.Loopback();
        var address = new PciAddress(0, 0, 0x1f, 0);
        var device = new VirtioNetDevice(address, new IommuDomain(memory, address.ToString()), new IrqLine(11), [0x52, 0x54, 0, 0, 0, 1], null, 1500,
            VirtioPci.TransitionalNetDeviceId, Offered, Offered, VirtioNetDevice.Implemented);
        device.Connect(wire);
        VirtioNetDriver driver = VirtioNetDriver.BringUp(device.Function, memory, owner, pairs: pairs, multiqueue: true);
        var bursts = new FrameBurst[pairs];
        for (int p = 0; p < pairs; p++)
        {
            bursts[p] = new FrameBurst(driver.Pool);
            bursts[p].Fill();
            for (int i = 0; i < bursts[p].Capacity; i++) bursts[p].SetLength(i, FrameBytes);
            bursts[p].Count = bursts[p].Capacity;
        }
        WarmUp(() => ForwardPairs(driver, bursts));
        var clock = Stopwatch.StartNew();
        long cpu0 = ThreadCpuClock.ReadCurrentThreadNs();
        long packets = ForwardPairsUntil(driver, bursts, clock, (long)(duration.TotalSeconds * Stopwatch.Frequency));
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (ThreadCpuClock.ReadCurrentThreadNs() - cpu0) / 1e9;
        if (device.NeedsReset || device.ActivePairs != pairs) throw new InvalidOperationException("the bench broke the device: " + device.ResetReason);
        return Row("loopback mq", "core", FrameBytes, packets, seconds,
            $"{pairs} of {Offered} pairs in turn on one core, {cpuSeconds * 1e9 / Math.Max(1, packets):0} ns CPU/frame")
            with { CpuSeconds = cpuSeconds, Family = "curve pairs", QueuePairs = pairs };
    }

    private static long ForwardPairs(VirtioNetDriver driver, FrameBurst[] bursts)
    {
        long packets = 0;
        for (int p = 0; p < bursts.Length; p++)
        {
            driver.Tx(bursts[p], p);
            packets += driver.RxPoll(bursts[p], p);
        }
        return packets;
    }

    /// <summary>As <see cref="ForwardUntil"/>, over every pair in turn (compiled optimised once for the same reason).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long ForwardPairsUntil(VirtioNetDriver driver, FrameBurst[] bursts, Stopwatch clock, long deadlineTicks)
    {
        long packets = 0;
        int rounds = Math.Max(1, 256 / bursts.Length);
        do
        {
            for (int round = 0; round < rounds; round++) packets += ForwardPairs(driver, bursts);
        }
        while (clock.ElapsedTicks < deadlineTicks);
        return packets;
    }

    /// <summary>The measured loop, compiled optimised once: a loop in a method entered once otherwise runs as on-stack-replaced
    /// tier-0 code whose quality depends on the profile the warm-up happened to collect (the row swung 9.6–14.6 Mpps from one
    /// process to the next that way, the driver's own methods unchanged).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long ForwardUntil(VirtioNetDriver driver, FrameBurst burst, Stopwatch clock, long deadlineTicks)
    {
        long packets = 0;
        do
        {
            for (int round = 0; round < 256; round++)
            {
                driver.Tx(burst);
                packets += driver.RxPoll(burst);
            }
        }
        while (clock.ElapsedTicks < deadlineTicks);
        return packets;
    }

    /// <summary>
    /// The netdevice layer over the same virtio-net and loopback wire: a primary session writes 32 tx indices, the device checks
    /// each descriptor, copies the frame into a virtio TX buffer, rings once; the frames come back into the session's posted rx
    /// buffers (zero copy past the NIC's own); the client reads both FIFOs, resets the rx descriptors and posts them again.
    /// </summary>
    public static BenchResult NetDevice(int frameBytes, TimeSpan duration)
    {
        using Machine machine = DefaultMachine.Create();
        Driver.NetDevice.Device dev = machine.NetDevices.Get(new PciAddress(0, 0, 0x1f, 0));
        DmaOwner owner = machine.Dma.CreateOwner("bench", 64 << 20);
        const int Count = 256, Burst = 32, Slot = 2048;
        machine.Dma.TryAllocate(owner, Count * 40, out DmaRegion descs);
        machine.Dma.TryAllocate(owner, Count * Slot, out DmaRegion data);
        var (session, fifos) = dev.OpenSession("bench", new Driver.NetDevice.SessionInfo
        {
            Descriptors = descs, Data = data, DescriptorVersion = 1, DescriptorLength = 5, DescriptorCount = Count, Options = Driver.NetDevice.SessionFlags.PRIMARY,
        });
        session.Attach(0, [Driver.NetDevice.FrameType.ETHERNET]);
        var table = new Driver.NetDevice.DescriptorTable(descs, 5);
        byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        for (int i = 0; i < Count; i++)
        {
            bool tx = i < Burst;
            table.Set(i, new Driver.NetDevice.BufferDescriptor
            {
                FrameType = tx ? (byte)1 : (byte)0, Offset = (ulong)(i * Slot), DataLength = tx ? (uint)frameBytes : Slot,
            });
            if (!tx) continue;
            Span<byte> f = data.TryGetSpan(owner, i * Slot, frameBytes, write: true, out Span<byte> s) == DmaError.None ? s : throw new InvalidOperationException();
            mac.CopyTo(f);
            mac.CopyTo(f[6..]);
        }
        ushort[] txIds = Enumerable.Range(0, Burst).Select(i => (ushort)i).ToArray(), back = new ushort[Count], rx = new ushort[Count];
        for (int i = Burst; i < Burst + 128; i++) rx[i - Burst] = (ushort)i;
        fifos.Rx.Write(rx.AsSpan(0, 128));
        long packets = 0;
        void Round()
        {
            fifos.Tx.Write(txIds);
            fifos.Tx.Read(back);
            int n = fifos.Rx.Read(rx);
            for (int k = 0; k < n; k++) // a client resets what came back before posting it again
            {
                Span<byte> d = table.Slot(rx[k]);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d[Driver.NetDevice.BufferDescriptor.DataLengthAt..], Slot);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(d[Driver.NetDevice.BufferDescriptor.TailLengthAt..], 0);
            }
            fifos.Rx.Write(rx.AsSpan(0, n));
            packets += n;
        }
        WarmUp(Round);
        packets = 0;
        var clock = Stopwatch.StartNew();
        long cpu0 = ThreadCpuClock.ReadCurrentThreadNs();
        long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        RoundsUntil(Round, clock, deadline);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (ThreadCpuClock.ReadCurrentThreadNs() - cpu0) / 1e9;
        if (session.Epitaph is { } e) throw new InvalidOperationException("the bench's session closed: " + e + " " + session.CloseReason);
        return Row("netdevice session", "core", frameBytes, packets, seconds, "burst 32, tx+rx FIFOs, virtio-net loopback") with { CpuSeconds = cpuSeconds };
    }

    /// <summary>
    /// The MANA VF: 32 SQ WQEs posted, one SQ doorbell → the device reads each WQE (header, short OOB, SGE) and puts the
    /// frame on the loopback wire → RQ WQEs filled, RX CQEs with mana_rxcomp_oob, TX CQEs, one EQE per armed CQ → the
    /// driver handles the EQ (re-arms CQs and EQ), reaps TX CQEs and RX CQEs, reposts RQ WQEs with one RQ doorbell.
    /// </summary>
    public static BenchResult Mana(int frameBytes, TimeSpan duration)
    {
        using var machine = DefaultMachine.Create();
        DmaOwner owner = machine.Dma.CreateOwner("bench", 64 << 20);
        ManaDevice vf = machine.Devices.OfType<ManaDevice>().First();
        using var driver = new ManaDriver(vf.Function, machine.Dma, owner);
        driver.BringUp(ringBytes: 32768, frames: 512);
        ManaQueuePair q = driver.Queues!;
        for (int i = 0; i < 512; i++)
        {
            Span<byte> f = q.NextTxBuffer();
            driver.Mac.CopyTo(f);
            driver.Mac.CopyTo(f[6..]);
            q.Post(frameBytes); // fills every slot's header once; the WQEs are reaped below
        }
        q.Flush();
        q.PollTx(1024);
        long packets = 0;
        ManaQueuePair.FrameHandler count = _ => packets++;
        void Round()
        {
            for (int i = 0; i < 32 && q.Post(frameBytes); i++) { }
            q.Flush();
            q.ProcessEvents();
            q.PollTx(64);
            q.PollRx(count, 64);
        }
        WarmUp(Round);
        packets = 0;
        var clock = Stopwatch.StartNew();
        long cpu0 = ThreadCpuClock.ReadCurrentThreadNs();
        long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        RoundsUntil(Round, clock, deadline);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (ThreadCpuClock.ReadCurrentThreadNs() - cpu0) / 1e9;
        if (q.TxErrors + q.RxErrors != 0) throw new InvalidOperationException($"the bench broke the MANA VF: {q.TxErrors} TX, {q.RxErrors} RX errors");
        return Row("mana sq→wire→rq", "core", frameBytes, packets, seconds, "burst 32, CQE+EQE processing") with { CpuSeconds = cpuSeconds };
    }

    /// <summary>Post 32, publish, device pops 32, pushes 32 used, publishes, driver reaps 32: the ring alone, no copy.</summary>
    public static BenchResult Ring(TimeSpan duration)
    {
        using var memory = new DmaMemory();
        DmaOwner owner = memory.CreateOwner("bench", 16 << 20);
        SplitVirtqueueDriver.TryCreate(memory, owner, 256, eventIdx: true, out var driver);
        var domain = new IommuDomain(memory, "bench");
        using DmaAttachment attached = domain.Attach(owner); // the device side checks every ring and buffer against it
        SplitVirtqueue.TryCreate(domain, 256, driver.DescIova, driver.AvailIova, driver.UsedIova, true, false, out var device);
        memory.TryAllocate(owner, 64 * 1024, out DmaRegion buffers);
        var chain = new DescriptorChain(4);
        long ops = 0;
        var clock = Stopwatch.StartNew();
        long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (clock.ElapsedTicks < deadline)
        {
            for (int round = 0; round < 1024; round++)
            {
                for (int i = 0; i < 32; i++) driver.TryAdd(buffers.Iova + (ulong)(i * 2048), 64, false, out _);
                driver.Publish();
                for (int i = 0; i < 32; i++)
                {
                    device.TryPop(chain, out _);
                    device.PushUsed(chain.Head, 0);
                }
                device.PublishUsed();
                while (driver.TryGetUsed(out _, out _)) ops++;
            }
        }
        return Row("ring", "core", 0, ops, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Runs <paramref name="round"/> 256 times between clock reads until the deadline: compiled optimised once, as
    /// <see cref="ForwardUntil"/>, rather than as the on-stack-replaced loop of a method entered once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RoundsUntil(Action round, Stopwatch clock, long deadlineTicks)
    {
        do
        {
            for (int i = 0; i < 256; i++) round();
        }
        while (clock.ElapsedTicks < deadlineTicks);
    }

    /// <summary>How long a row runs before its clock starts: past tiered compilation's call-counting delay (100 ms, extended
    /// by every method still compiled at tier 0) and the background compile to tier 1, so the row measures optimised code
    /// whichever rows ran before it in the process.</summary>
    internal static readonly TimeSpan WarmUpTime = TimeSpan.FromMilliseconds(400);

    internal static void WarmUp(Action round)
    {
        var clock = Stopwatch.StartNew();
        for (int n = 0; n < 20_000 || clock.Elapsed < WarmUpTime; n++) round();
    }

    internal static BenchResult Row(string scenario, string driver, int frameBytes, long packets, double seconds, string? note = null) =>
        new(scenario, driver, frameBytes, packets / seconds / 1e6, packets * (double)frameBytes * 8 / seconds / 1e9, packets, seconds, note);
}
