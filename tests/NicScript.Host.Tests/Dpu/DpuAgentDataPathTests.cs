using NicScript.Driver.Time;
using NicScript.Driver.Devices.Virtio;
using Google.Protobuf;
using NicScript.Driver;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>
/// The DPU's data path through a real agent (gRPC on loopback) on a manual clock: meters (DPU-34…37), the classifier
/// (DPU-39, 40, 43, 44), the SoC switch (DPU-50, 51), port statistics (DPU-52, 53), optical ports (DPU-54…56) and the
/// bond (DPU-57…59, 61). Traffic comes from a frame generator on an optical port's wire or from the elastic NIC's own
/// virtio-net driver; the "stream at R frames/s for T s" of an item is paced on the manual clock, so rates are exact.
/// </summary>
public sealed class DpuAgentDataPathTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private DpuAgentFixture _f = null!;
    private readonly List<FrameGenerator> _generators = new();

    public async Task InitializeAsync() => _f = await StartAsync(clock: _clock);

    public async Task DisposeAsync()
    {
        foreach (FrameGenerator g in _generators) g.Dispose();
        await _f.DisposeAsync();
    }

    private DpuSwitch Switch => _f.Agent.Device.Switch;

    /// <summary>The far end of optical port <paramref name="port"/>'s wire: the outside world.</summary>
    private FrameGenerator Wire(int port, TrafficSpec? spec = null) => On(Switch.OpticalWire(port), spec);

    /// <summary>The test's end of a DPU cable (one generator per cable, reconfigured when asked again).</summary>
    private FrameGenerator On(Link link, TrafficSpec? spec = null)
    {
        if (_generators.FirstOrDefault(x => x.Link == link) is not { } g)
        {
            g = new FrameGenerator(link);
            _generators.Add(g);
        }
        if (spec is not null) g.Configure(spec);
        return g;
    }

    /// <summary>An elastic NIC and its host driver (all receive buffers posted).</summary>
    private async Task<VirtioNetDriver> Port(string uuid, uint vport, int queueSize = 256, bool up = true, uint mtu = 1500)
    {
        PortOpsRep r = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = uuid, Vport = vport, Mtu = mtu });
        Assert.Equal(Ok, r.Status);
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(vport), out PciFunction f));
        return up ? VirtioNetDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner($"host{vport}", 32 << 20), queueSize) : null!;
    }

    private static string MacOf(uint vport) => $"02:4e:53:00:00:{vport:x2}";

    /// <summary>An elastic NIC of <paramref name="pairs"/> queue pairs (MQ, the default feature set) and a driver using them all.</summary>
    private async Task<VirtioNetDriver> MqPort(string uuid, uint vport, int pairs)
    {
        PortOpsRep r = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = uuid, Vport = vport, MaxQpair = (uint)pairs });
        Assert.Equal(Ok, r.Status);
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(vport), out PciFunction f));
        return VirtioNetDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner($"host{vport}", 32 << 20), 256, pairs: pairs, multiqueue: true);
    }

    /// <summary>Frames waiting on each receive queue of a driver (drained).</summary>
    private static int[] PerQueue(VirtioNetDriver d)
    {
        var burst = new FrameBurst(d.Pool);
        var counts = new int[d.Pairs];
        for (int q = 0; q < d.Pairs; q++)
            for (int n; (n = d.RxPoll(burst, q)) > 0;) counts[q] += n;
        burst.Release();
        return counts;
    }

    private async Task<GetPortStatsResponse> Stats(uint vid) => await _f.Stats.GetPortStatsAsync(new GetPortStatsRequest { Vid = vid });

    private async Task<EthMacGetStatsResponse> Optical(uint port) => await _f.Optical.EthMacGetStatsAsync(new EthMacGetStatsRequest { PortId = port });

    private async Task<MeterGetResponse> Meter(uint id) => await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = id });

    private async Task<ClassifierReadResponse> Rule(int key) => await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = key });

    private async Task Write(int key, MaskRuleKey k, int vid, int qid = 0, uint? meter = null)
    {
        var action = new RuleAction { Vid = vid, Qid = qid };
        if (meter is { } m) action.MeterId = m;
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = key, MaskRuleKey = k, Action = action })).Status);
    }

    private static MaskRuleKey Dip(uint address, uint mask = 0xFFFFFFFF) => new() { IpType = "ipv4", Dip = { address }, DipMask = { mask } };

    /// <summary>Drains the driver's receive ring (reposting buffers); returns frames taken.</summary>
    private static int Drain(VirtioNetDriver d)
    {
        var burst = new FrameBurst(d.Pool);
        int total = 0, n;
        while ((n = d.RxPoll(burst)) > 0) total += n;
        burst.Release();
        return total;
    }

    /// <summary>Sends <paramref name="count"/> copies of <paramref name="frame"/> from the host driver.</summary>
    private static void HostSend(VirtioNetDriver d, ReadOnlySpan<byte> frame, int count)
    {
        var burst = new FrameBurst(d.Pool);
        while (count > 0)
        {
            Assert.True(burst.Fill());
            int n = Math.Min(count, burst.Capacity);
            for (int i = 0; i < n; i++)
            {
                frame.CopyTo(burst.Buffer(i));
                burst.SetLength(i, frame.Length);
            }
            burst.Count = n;
            Assert.Equal(n, d.Tx(burst));
            count -= n;
        }
        burst.Release();
    }

    /// <summary>Paced stream from the wire, drained as it goes (the host keeps buffers posted).</summary>
    private void Stream(FrameGenerator g, int frames, double perSecond, VirtioNetDriver? drain)
    {
        for (int sent = 0; sent < frames; sent += 100)
        {
            g.SendPaced(Math.Min(100, frames - sent), perSecond, _clock);
            _clock.AdvanceNs((long)(1e9 / perSecond)); // the gap before the next chunk's first frame
            if (drain is not null) Drain(drain);
        }
    }

    // ---------------------------------------------------------------- meters

    [Fact]
    public async Task DPU_34_a_meter_delivers_its_rate_and_drops_the_rest()
    {
        VirtioNetDriver host = await Port("a", 0, queueSize: 1024);
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 })).Status);
        await Write(1, Dip(0x0A000007), vid: 0, qid: 0, meter: 10);
        FrameGenerator g = Wire(0, new TrafficSpec { Size = 1000, Destination = "10.0.0.7" });

        Stream(g, 10_000, 2_000, host); // 5 s
        GetPortStatsResponse s = await Stats(0);
        MeterGetResponse m = await Meter(10);
        Assert.InRange(s.RxBytes, 4_765_565ul, 5_267_203ul);
        Assert.Equal(m.PassBytes, s.RxBytes);
        Assert.Equal(10_000ul, m.PassPackets + m.DropPackets);
        Assert.Equal(10_000ul, (await Rule(1)).HitPackets);
        Assert.Equal(10_000ul, s.RxPackets + s.RxDrop);

        _clock.Advance(TimeSpan.FromSeconds(1)); // bucket full again
        Stream(g, 2_500, 500, host); // 5 s at half the rate
        MeterGetResponse after = await Meter(10);
        Assert.Equal(m.DropPackets, after.DropPackets);
        Assert.Equal(s.RxPackets + 2_500, (await Stats(0)).RxPackets);
    }

    [Fact]
    public async Task DPU_35_the_bucket_is_exact_on_a_still_clock()
    {
        VirtioNetDriver host = await Port("a", 0, queueSize: 1024);
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        await Write(1, Dip(0x0A000007), vid: 0, meter: 10);
        FrameGenerator g = Wire(0, new TrafficSpec { Size = 1000, Destination = "10.0.0.7" });
        g.Send(100);
        MeterGetResponse m = await Meter(10);
        Assert.Equal((16ul, 84ul), (m.PassPackets, m.DropPackets));
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        g.Send(20);
        m = await Meter(10);
        Assert.Equal((26ul, 94ul), (m.PassPackets, m.DropPackets));
        Assert.Equal(26, Drain(host));
    }

    [Fact]
    public async Task DPU_36_a_packet_meter()
    {
        VirtioNetDriver host = await Port("a", 0, queueSize: 1024);
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 11, Rate = 1000, Type = 1 });
        await Write(1, Dip(0x0A000007), vid: 0, meter: 11);
        Stream(Wire(0, new TrafficSpec { Size = 64, Destination = "10.0.0.7" }), 10_000, 2_000, host);
        Assert.InRange((await Meter(11)).PassPackets, 4_765ul, 5_267ul);
    }

    [Fact]
    public async Task DPU_37_a_rate_change_applies_to_the_next_frame()
    {
        VirtioNetDriver host = await Port("a", 0, queueSize: 1024);
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        await Write(1, Dip(0x0A000007), vid: 0, meter: 10);
        FrameGenerator g = Wire(0, new TrafficSpec { Size = 1000, Destination = "10.0.0.7" });
        Stream(g, 8_000, 4_000, host); // t = 0 … 2 s
        MeterGetResponse before = await Meter(10);
        Assert.Equal(Ok, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 10, Rate = 16000 })).Status);
        Stream(g, 800, 4_000, host); // … 2.2 s
        ulong at22 = (await Stats(0)).RxBytes;
        Stream(g, 8_000, 4_000, host); // … 4.2 s
        ulong at42 = (await Stats(0)).RxBytes;
        Assert.InRange((at42 - at22) / 2.0, 1_900_000, 2_100_000);
        MeterGetResponse after = await Meter(10);
        Assert.True(after.PassPackets >= before.PassPackets && after.DropPackets >= before.DropPackets);
    }

    [Fact]
    public async Task A_meter_limits_what_a_vport_sends_out_of_an_optical_port()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 })).Status); // 1,000,000 B/s, burst 16,384 B
        MaskRuleKey fromV0 = Dip(0x0A000009);
        (fromV0.Vid, fromV0.VidMask) = (0, 0x7FFFFFFF);
        await Write(1, fromV0, vid: DpuSwitch.OpticalBase + 1, qid: -1, meter: 10);
        FrameGenerator far = Wire(1, new TrafficSpec { Size = 1000, Smac = MacOf(0), Dmac = "04:00:00:00:00:09", Destination = "10.0.0.9" });
        FrameGenerator uplink = Wire(0);

        for (int round = 0; round < 400; round++) // 10 frames every 5 ms for 2 s: 2,000,000 B/s, twice the meter's rate
        {
            if (round > 0) _clock.AdvanceNs(5_000_000);
            HostSend(v0, far.Frame(0), 10);
        }

        MeterGetResponse m = await Meter(10);
        EthMacGetStatsResponse out1 = await Optical(1);
        Assert.Equal(4_000ul, m.PassPackets + m.DropPackets);
        Assert.Equal(4_000ul, (await Rule(1)).HitPackets);
        Assert.InRange(m.PassBytes, 1_995_000ul - 1_000, 1_995_000ul + 16_384); // rate × 1.995 s, plus at most the burst
        Assert.Equal((m.PassPackets, m.PassBytes), (out1.Opackets, out1.Obytes)); // the green frames left through optical port 1
        Assert.Equal((long)m.PassPackets, far.Received);
        Assert.Equal((0ul, 0L), ((await Optical(0)).Opackets, uplink.Received)); // not through the uplink default forwarding uses
        Assert.Equal(0ul, out1.Oerrors);
        Assert.Equal(4_000ul, (await Stats(0)).TxPackets);
    }

    // ---------------------------------------------------------------- classifier

    [Fact]
    public async Task DPU_39_masks()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        async Task<(ulong Hits, int Landed)> Try(MaskRuleKey key, TrafficSpec spec)
        {
            await Write(1, key, vid: 0);
            using var g = new FrameGenerator(Switch.OpticalWire(0));
            // unless the item's frame names a MAC, an unknown unicast one: without a hit it goes to the SoC, not to vport 0
            g.Configure(spec.Dmac == new TrafficSpec().Dmac ? spec with { Dmac = "04:00:00:12:34:56" } : spec);
            g.Send(1);
            ulong hits = (await Rule(1)).HitPackets;
            await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 1 });
            return (hits, Drain(v0));
        }
        Assert.Equal((1ul, 1), await Try(Dip(0x0A000000, 0xFFFFFF00), new TrafficSpec { Destination = "10.0.0.77" }));
        Assert.Equal((0ul, 0), await Try(Dip(0x0A000000, 0xFFFFFF00), new TrafficSpec { Destination = "10.0.1.1" }));
        var dmac = new MaskRuleKey { Dmac = ByteString.CopyFrom(2, 0, 0, 0, 0, 0), DmacMask = 0xFFFFFF000000 };
        Assert.Equal((1ul, 1), await Try(dmac, new TrafficSpec { Dmac = "02:00:00:12:34:56" }));
        Assert.Equal((0ul, 0), await Try(dmac, new TrafficSpec { Dmac = "04:00:00:12:34:57" }));
        var vlan = new MaskRuleKey { Vlan = 100, VlanMask = 0xFFF };
        Assert.Equal((1ul, 1), await Try(vlan, new TrafficSpec { Vlan = 100 }));
        Assert.Equal((0ul, 0), await Try(vlan, new TrafficSpec()));
        Assert.Equal((0ul, 0), await Try(vlan, new TrafficSpec { Vlan = 101 }));
        var https = new MaskRuleKey { IpType = "ipv4", Ipprotocol = 6, IpprotocolMask = 0xFF, Dl4Port = 443, Dl4PortMask = 0xFFFF };
        Assert.Equal((1ul, 1), await Try(https, new TrafficSpec { Protocol = 6, DestinationPort = 443 }));
        Assert.Equal((0ul, 0), await Try(https, new TrafficSpec { Protocol = 17, DestinationPort = 443 }));
        Assert.Equal((0ul, 0), await Try(https, new TrafficSpec { Protocol = 6, DestinationPort = 444 }));
    }

    [Fact]
    public async Task DPU_40_the_smallest_key_index_decides()
    {
        VirtioNetDriver v0 = await Port("a", 0), v1 = await Port("b", 1), v2 = await Port("c", 2);
        await Write(10, Dip(0x0A000000, 0xFFFFFF00), vid: 1);
        await Write(20, Dip(0x0A000007), vid: 0);
        FrameGenerator g = Wire(0, new TrafficSpec { Destination = "10.0.0.7", Dmac = "04:00:00:00:00:01" });
        g.Send(1);
        Assert.Equal((0, 1, 0), (Drain(v0), Drain(v1), Drain(v2)));
        Assert.Equal(Ok, (await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 10 })).Status);
        g.Send(1);
        Assert.Equal((1, 0, 0), (Drain(v0), Drain(v1), Drain(v2)));
        await Write(5, Dip(0x0A000007), vid: 2);
        g.Send(1);
        Assert.Equal((0, 0, 1), (Drain(v0), Drain(v1), Drain(v2)));
    }

    [Fact]
    public async Task DPU_43_a_drop_rule_delivers_nothing()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Write(1, Dip(0x0A000009), vid: -1, qid: -1);
        FrameGenerator g = Wire(0, new TrafficSpec { Destination = "10.0.0.9", Dmac = MacOf(0) }); // would reach vport 0 by default
        ulong before = (await Optical(0)).Ipackets;
        g.Send(30);
        Assert.Equal(30ul, (await Rule(1)).HitPackets);
        Assert.Equal(before + 30, (await Optical(0)).Ipackets);
        Assert.Equal(0, Drain(v0));
        foreach (uint vid in new uint[] { 0, 0x10000, 0x10001 })
        {
            GetPortStatsResponse s = await Stats(vid);
            Assert.Equal((0ul, 0ul), (s.RxPackets, s.RxDrop));
        }
    }

    [Fact]
    public async Task DPU_44_a_host_frame_redirected_to_the_SoC()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Write(1, new MaskRuleKey { Vid = 0, VidMask = 0x7FFFFFFF, Dmac = ByteString.CopyFrom(2, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa), DmacMask = 0xFFFFFFFFFFFF }, vid: 0x10000);
        FrameGenerator soc = On(Switch.SocWire(0), new TrafficSpec { Dmac = "02:aa:aa:aa:aa:aa", Smac = MacOf(0) });
        HostSend(v0, soc.Frame(0), 40);
        Assert.Equal(40, soc.Received);
        Assert.Equal(40ul, (await Stats(0x10000)).RxPackets);
        Assert.Equal(40ul, (await Stats(0)).TxPackets);
        Assert.Equal(0ul, (await Optical(0)).Opackets);
    }

    [Fact]
    public async Task DPU_38_a_rule_picks_the_receive_queue()
    {
        VirtioNetDriver v0 = await MqPort("a", 0, 2);
        await MqPort("b", 1, 2);
        await MqPort("c", 2, 2);
        ClassifierOpsRsp w = await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 100, MaskRuleKey = Dip(0x0A000007), Action = new RuleAction { Vid = 0, Qid = 1 } });
        Assert.Equal((Ok, 100), (w.Status, w.KeyIndex));
        Wire(0, new TrafficSpec { Destination = "10.0.0.7", Flows = 16, Dmac = "04:00:00:00:00:01" }).Send(50);
        Assert.Equal([0, 50], PerQueue(v0));
        Assert.Equal(50ul, (await Rule(100)).HitPackets);
    }

    [Fact]
    public async Task DPU_41_an_IPv6_key()
    {
        VirtioNetDriver v0 = await MqPort("a", 0, 2);
        await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest
        {
            KeyIndex = 1, MaskRuleKey = new MaskRuleKey { IpType = "ipv6", Dip = { 0x20010DB8, 0, 0, 7 }, DipMask = { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF } },
            Action = new RuleAction { Vid = 0, Qid = 1 },
        });
        Wire(0, new TrafficSpec { Source = "2001:db8::100", Destination = "2001:db8::7", Dmac = MacOf(0), Size = 128 }).Send(10);
        Assert.Equal([0, 10], PerQueue(v0));
        Wire(0, new TrafficSpec { Source = "2001:db8::100", Destination = "2001:db8::8", Dmac = MacOf(0), Size = 128 }).Send(10);
        Wire(0, new TrafficSpec { Destination = "10.0.0.7", Dmac = MacOf(0) }).Send(10); // IPv4 never matches
        Assert.Equal(10ul, (await Rule(1)).HitPackets);
        Assert.Equal(20, PerQueue(v0).Sum()); // by default forwarding, to the NIC's MAC
    }

    [Fact]
    public async Task DPU_42_a_key_on_the_ingress_port()
    {
        VirtioNetDriver v0 = await MqPort("a", 0, 2);
        await Write(1, new MaskRuleKey { Vid = 0x20001, VidMask = 0x7FFFFFFF }, vid: 0, qid: 1);
        var frame = new TrafficSpec { Destination = "10.0.0.9", Dmac = MacOf(0), Flows = 8 };
        Wire(1, frame).Send(8);
        Assert.Equal([0, 8], PerQueue(v0));
        Wire(0, frame).Send(8);
        Assert.Equal(8, PerQueue(v0).Sum()); // default forwarding (the flow hash spreads them over both queues)
        Assert.Equal(8ul, (await Rule(1)).HitPackets);
    }

    [Fact]
    public async Task DPU_12_MTU_and_queue_pair_changes_under_a_bound_driver()
    {
        VirtioNetDriver v7 = await MqPort("b", 7, 4);
        Assert.Equal(4u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 })).ActiveQpair);
        v7.AckInterrupt();
        Assert.Equal(Ok, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 4000 })).Status);
        Assert.Equal(2, v7.AckInterrupt() & 2); // config changed
        Assert.Equal(4000, v7.ConfigMtu);
        FrameGenerator soc = On(Switch.SocWire(0), new TrafficSpec { Dmac = MacOf(7), Size = 4014 });
        soc.Send(1);
        soc.Configure(new TrafficSpec { Dmac = MacOf(7), Size = 4015 });
        soc.Send(1);
        GetPortStatsResponse s = await Stats(7);
        Assert.Equal((1ul, 1ul), (s.RxPackets, s.RxDrop));

        Assert.Equal(Ok, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, MaxQpair = 2 })).Status);
        Assert.NotEqual(0, v7.DeviceStatus & 0x40); // DEVICE_NEEDS_RESET
        GetPortCfgResponse cfg = await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 });
        Assert.Equal((2u, 4u), (cfg.MaxQpair, cfg.ActiveQpair));
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(7), out PciFunction f));
        f.WriteBar(VirtioPci.ModernBar, VirtioPci.CommonOffset + VirtioPci.DeviceStatus, 1, 0); // the driver resets the device
        Assert.Throws<VirtioDriverException>(() => VirtioNetDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("again", 32 << 20), 256, pairs: 4));
        VirtioNetDriver again = VirtioNetDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("again2", 32 << 20), 256, pairs: 2);
        Assert.True((await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 })).ActiveQpair <= 2);
        Assert.Equal(2, again.Pairs);
    }

    [Fact]
    public async Task DPU_16_active_qpair_follows_the_host_driver()
    {
        Assert.Equal(Ok, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a", Vport = 0 })).Status);
        Assert.Equal(0u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 0 })).ActiveQpair); // no driver yet
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        DmaOwner owner = _f.Machine.Dma.CreateOwner("host", 32 << 20);
        VirtioNetDriver d = VirtioNetDriver.BringUp(f, _f.Machine.Dma, owner, 256, multiqueue: true);
        Assert.NotEqual(0ul, d.Features & 1UL << 22); // MQ negotiated, one pair
        Assert.Equal(1u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 0 })).ActiveQpair);
        d.Shutdown(_f.Machine.Dma, owner);
        Assert.Equal(0u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 0 })).ActiveQpair);
    }

    // ---------------------------------------------------------------- SoC port switch

    [Fact]
    public async Task DPU_50_unknown_unicast_from_the_wire_goes_to_the_SoC_unless_redirected()
    {
        FrameGenerator g = Wire(0, new TrafficSpec { Dmac = "04:00:00:00:00:99" });
        g.Send(25);
        Assert.Equal(25ul, (await Stats(0x10000)).RxPackets);
        Assert.Equal(Ok, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 1 })).Status);
        g.Send(25);
        Assert.Equal((25ul, 25ul), ((await Stats(0x10000)).RxPackets, (await Stats(0x10001)).RxPackets));
        ProcSwitchListResponse list = await _f.Traffic.ProcSwitchListAsync(new ProcSwitchListRequest());
        Assert.Equal(2u, list.SocPortCnt);
        Assert.Equal((0u, 1u), (list.Switches.Single().SrcPfid, list.Switches.Single().DestPfid));
    }

    [Fact]
    public async Task DPU_51_redirects_are_one_step_and_clear_with_src_equal_dest()
    {
        await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 1 });
        await Write(1, Dip(0x0A000005), vid: 0x10000);
        Wire(0, new TrafficSpec { Destination = "10.0.0.5" }).Send(3);
        Assert.Equal((0ul, 3ul), ((await Stats(0x10000)).RxPackets, (await Stats(0x10001)).RxPackets));
        Assert.Equal(Ok, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 1 })).Status);
        Assert.Equal(Ok, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 1, DestPfid = 0 })).Status);
        await Write(2, Dip(0x0A000006), vid: 0x10001);
        Wire(1, new TrafficSpec { Destination = "10.0.0.5" }).Send(1); // for SoC 0 → lands on 1
        Wire(1, new TrafficSpec { Destination = "10.0.0.6" }).Send(1); // for SoC 1 → lands on 0, not back on 1
        Assert.Equal((1ul, 4ul), ((await Stats(0x10000)).RxPackets, (await Stats(0x10001)).RxPackets));
        Assert.Equal(Ok, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 0 })).Status);
        Assert.Equal(Ok, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 1, DestPfid = 1 })).Status);
        Assert.Empty((await _f.Traffic.ProcSwitchListAsync(new ProcSwitchListRequest())).Switches);
        Wire(0, new TrafficSpec { Destination = "10.0.0.5" }).Send(1);
        Assert.Equal(2ul, (await Stats(0x10000)).RxPackets);
        Assert.Equal(NotFound, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 2, DestPfid = 0 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0 })).Status);
    }

    // ---------------------------------------------------------------- port statistics

    [Fact]
    public async Task DPU_52_counters_both_ways()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        Wire(0, new TrafficSpec { Size = 512, Dmac = MacOf(0) }).Send(100);
        Assert.Equal(100, Drain(v0));
        GetPortStatsResponse s = await Stats(0);
        Assert.Equal((100ul, 51_200ul, 0ul), (s.RxPackets, s.RxBytes, s.RxDrop));
        EthMacGetStatsResponse o = await Optical(0);
        Assert.Equal((100ul, 51_200ul), (o.Ipackets, o.Ibytes));

        FrameGenerator outside = Wire(0);
        outside.Configure(new TrafficSpec { Size = 256, Dmac = "04:00:00:00:00:42", Smac = MacOf(0) });
        HostSend(v0, outside.Frame(0), 50);
        s = await Stats(0);
        Assert.Equal((50ul, 12_800ul), (s.TxPackets, s.TxBytes));
        o = await Optical(0);
        Assert.Equal((50ul, 12_800ul), (o.Opackets, o.Obytes));
        Assert.Equal(50, outside.Received);
    }

    [Fact]
    public async Task DPU_53_drops_errors_and_fresh_counters()
    {
        await Port("a", 0, up: false); // no driver: no buffers posted
        FrameGenerator g = Wire(0, new TrafficSpec { Dmac = MacOf(0) });
        g.Send(20);
        GetPortStatsResponse s = await Stats(0);
        Assert.Equal((20ul, 0ul), (s.RxDrop, s.RxPackets));

        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        VirtioNetDriver v0 = VirtioNetDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("late", 16 << 20));
        // MTU + 15, untagged, from the SoC (the wire's own MTU check would stop it before the vport's)
        On(Switch.SocWire(0), new TrafficSpec { Dmac = MacOf(0), Size = 1515 }).Send(1);
        Assert.Equal(21ul, (await Stats(0)).RxDrop);
        Assert.Equal(0, Drain(v0));

        ulong txBefore = (await Stats(0)).TxPackets;
        Assert.True(v0.TxRaw(0x10, 12 + 60)); // far below any DMA region
        s = await Stats(0);
        Assert.Equal((1ul, txBefore), (s.TxError, s.TxPackets));
        Assert.Equal(0, v0.DeviceStatus & 0x40); // the frame's error, not the ring's: the NIC keeps working

        Assert.Equal(NotFound, (await Stats(9)).Status);
        Assert.Equal(NotFound, (await Stats(0x20000)).Status);
        Assert.Equal(InvalidArgument, (await _f.Stats.GetPortStatsAsync(new GetPortStatsRequest())).Status);
        await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 0 });
        await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "again", Vport = 0 });
        s = await Stats(0);
        Assert.Equal((0ul, 0ul, 0ul, 0ul), (s.RxPackets, s.RxDrop, s.TxPackets, s.TxError));
    }

    // ---------------------------------------------------------------- optical ports

    [Fact]
    public async Task DPU_54_link_follows_the_carrier()
    {
        EthLink up = (await _f.Optical.EthMacGetLinkAsync(new EthMacGetLinkRequest { PortId = 0 })).Link;
        Assert.Equal((25000u, true, true, true), (up.LinkSpeed, up.LinkDuplex, up.LinkAutoneg, up.LinkStatus));
        Switch.OpticalWire(0).SetCarrier(false);
        EthLink down = (await _f.Optical.EthMacGetLinkAsync(new EthMacGetLinkRequest { PortId = 0 })).Link;
        Assert.Equal((0u, false, true, false), (down.LinkSpeed, down.LinkDuplex, down.LinkAutoneg, down.LinkStatus));
        Assert.Equal(NotFound, (await _f.Optical.EthMacGetLinkAsync(new EthMacGetLinkRequest { PortId = 2 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacGetLinkAsync(new EthMacGetLinkRequest())).Status);
    }

    [Fact]
    public async Task DPU_55_per_queue_counters_add_up()
    {
        FrameGenerator g = Wire(0, new TrafficSpec { Flows = 100, Size = 128, Dmac = "04:00:00:00:00:01" });
        g.Send(1_000);
        EthMacGetStatsResponse s = await Optical(0);
        Assert.Equal(1_000ul, s.Ipackets);
        Assert.Equal(4, s.QIpackets.Count);
        Assert.Equal(1_000ul, s.QIpackets.Aggregate(0ul, (a, b) => a + b));
        Assert.Equal(s.Ibytes, s.QIbytes.Aggregate(0ul, (a, b) => a + b));
        Assert.True(s.QIpackets.Count(q => q > 0) > 1, "100 flows spread over more than one queue");
        Assert.Equal((0ul, 0ul), (s.Imissed, s.RxNombuf));

        Link wire = Switch.OpticalWire(0);
        WirePort raw = wire.Ports.First(p => !p.Unplugged && p != wire.Ports[0]);
        for (int i = 0; i < 5; i++) raw.Transmit(new byte[10]);
        for (int i = 0; i < 5; i++) raw.Transmit(new byte[1515]); // MTU + 15 untagged
        s = await Optical(0);
        Assert.Equal((1_000ul, 10ul), (s.Ipackets, s.Ierrors));
        wire.InjectFaults(new FaultInjector(new FaultSettings(0, 1.0, 0, 0, 0, 7))); // every frame corrupted: its FCS fails
        g.Send(3);
        wire.InjectFaults(null);
        s = await Optical(0);
        Assert.Equal((1_000ul, 13ul), (s.Ipackets, s.Ierrors));
        Assert.Equal(NotFound, (await Optical(2)).Status);
    }

    [Fact]
    public async Task DPU_56_optical_MTU()
    {
        EthMacGetMtuResponse m = await _f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 0 });
        Assert.Equal((1500u, 0u), (m.Mtu, m.PortId));
        EthMacSetMtuResponse set = await _f.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 0, Mtu = 9000 });
        Assert.Equal((Ok, 0u), (set.Status, set.PortId));
        Assert.Equal(9000u, (await _f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 0 })).Mtu);
        FrameGenerator g = Wire(0, new TrafficSpec { Size = 9014, Dmac = "04:00:00:00:00:01" });
        g.Send(1);
        g.Configure(new TrafficSpec { Size = 9015, Dmac = "04:00:00:00:00:01" });
        g.Send(1);
        EthMacGetStatsResponse s = await Optical(0);
        Assert.Equal((1ul, 1ul), (s.Ipackets, s.Ierrors));
        Assert.Equal(Ok, (await _f.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 0, Mtu = 9000 })).Status);
        foreach (var bad in new[] { new EthMacSetMtuRequest { PortId = 0, Mtu = 67 }, new EthMacSetMtuRequest { PortId = 0, Mtu = 9217 }, new EthMacSetMtuRequest { PortId = 0 } })
            Assert.Equal(InvalidArgument, (await _f.Optical.EthMacSetMtuAsync(bad)).Status);
        Assert.Equal(NotFound, (await _f.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 5, Mtu = 1500 })).Status);
    }

    // ---------------------------------------------------------------- bond

    private async Task Bond(params (string Name, string Value)[] options)
    {
        var r = new EthMacBondSetRequest { Enable = true };
        r.BondOpts.AddRange(options.Select(o => new BondOpts { OptName = o.Name, Value = o.Value }));
        Assert.Equal(Ok, (await _f.Optical.EthMacBondSetAsync(r)).Status);
    }

    [Fact]
    public async Task DPU_57_active_backup_sends_on_the_primary()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Bond(("mode", "active-backup"), ("miimon", "100"), ("primary", "0"));
        EthMacBondGetResponse b = await _f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest());
        Assert.True(b.Enable);
        Assert.Equal([0u, 1u], b.MemberPortIds);
        Assert.Equal(0u, b.ActivePortId);
        var opts = b.BondOpts.ToDictionary(o => o.OptName, o => o.Value);
        Assert.Equal(("active-backup", "100", "0", "0", "layer2", "0", "0,1"),
            (opts["mode"], opts["miimon"], opts["updelay"], opts["downdelay"], opts["xmit_hash_policy"], opts["primary"], opts["members"]));
        FrameGenerator w0 = Wire(0), w1 = Wire(1);
        w0.Configure(new TrafficSpec { Dmac = "04:00:00:00:00:42", Smac = MacOf(0) });
        HostSend(v0, w0.Frame(0), 100);
        Assert.Equal((100ul, 0ul), ((await Optical(0)).Opackets, (await Optical(1)).Opackets));
        Assert.Equal((100, 0), (w0.Received, w1.Received));
    }

    [Fact]
    public async Task DPU_58_failover_within_miimon_and_back_to_the_primary()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Bond(("mode", "active-backup"), ("miimon", "100"), ("primary", "0"));
        FrameGenerator w0 = Wire(0), w1 = Wire(1);
        w0.Configure(new TrafficSpec { Dmac = "04:00:00:00:00:42", Smac = MacOf(0) });
        byte[] frame = w0.Frame(0).ToArray();

        Switch.OpticalWire(0).SetCarrier(false); // t0
        HostSend(v0, frame, 1); // before the next miimon tick: still on 0, whose link is down
        Assert.Equal(1ul, (await Optical(0)).Oerrors);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        HostSend(v0, frame, 10);
        Assert.Equal(1u, (await _f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest())).ActivePortId);
        Assert.Equal(10, w1.Received);

        Switch.OpticalWire(0).SetCarrier(true);
        _clock.Advance(TimeSpan.FromMilliseconds(200)); // miimon + 100 ms
        HostSend(v0, frame, 10);
        Assert.Equal(0u, (await _f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest())).ActivePortId);
        Assert.Equal((10, 10), (w0.Received, w1.Received));
    }

    [Fact]
    public async Task DPU_59_balance_xor_keeps_each_flow_on_one_member()
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Bond(("mode", "balance-xor"), ("xmit_hash_policy", "layer3+4"));
        var seen = new[] { new FlowSink(), new FlowSink() };
        Link[] wires = [Switch.OpticalWire(0), Switch.OpticalWire(1)];
        for (int i = 0; i < 2; i++) wires[i].Attach(seen[i]);
        FrameGenerator flows = On(Switch.SocWire(1), new TrafficSpec { Dmac = "04:00:00:00:00:42", Smac = MacOf(0), Flows = 64 }); // a frame builder here
        for (int flow = 0; flow < 64; flow++) HostSend(v0, flows.Frame(flow), 10);
        Assert.True((await Optical(0)).Opackets > 0 && (await Optical(1)).Opackets > 0, "both members carry traffic");
        Assert.Equal(640ul, (await Optical(0)).Opackets + (await Optical(1)).Opackets);
        for (int flow = 0; flow < 64; flow++)
        {
            int port = flows.Spec.SourcePort + flow;
            Assert.Equal(10, seen[0].Count(port) + seen[1].Count(port));
            Assert.True(seen[0].Count(port) == 0 || seen[1].Count(port) == 0, $"flow {flow} split over both members");
        }
    }

    private sealed class FlowSink : IFrameReceiver
    {
        private readonly Dictionary<int, int> _bySourcePort = new();

        public int Count(int sourcePort)
        {
            lock (_bySourcePort) return _bySourcePort.GetValueOrDefault(sourcePort);
        }

        public void Receive(ReadOnlySpan<byte> frame)
        {
            int sport = frame[34] << 8 | frame[35]; // untagged IPv4/UDP
            lock (_bySourcePort) _bySourcePort[sport] = _bySourcePort.GetValueOrDefault(sport) + 1;
        }
    }

    [Theory]
    [InlineData("balance-rr", 10, 10)]
    [InlineData("broadcast", 20, 20)]
    public async Task Round_robin_takes_members_in_turn_and_broadcast_sends_on_all(string mode, int onFirst, int onSecond)
    {
        VirtioNetDriver v0 = await Port("a", 0);
        await Bond(("mode", mode));
        FrameGenerator w0 = Wire(0), w1 = Wire(1);
        w0.Configure(new TrafficSpec { Dmac = "04:00:00:00:00:42", Smac = MacOf(0) });
        HostSend(v0, w0.Frame(0), 20);
        Assert.Equal((onFirst, onSecond), ((int)w0.Received, (int)w1.Received));
        Switch.OpticalWire(1).SetCarrier(false);
        _clock.Advance(TimeSpan.FromMilliseconds(200)); // member 1 declared down
        HostSend(v0, w0.Frame(0), 10);
        Assert.Equal((onFirst + 10, onSecond), ((int)w0.Received, (int)w1.Received));
        Switch.OpticalWire(0).SetCarrier(false);
        _clock.Advance(TimeSpan.FromMilliseconds(200)); // no member up: the source port's tx_drop
        HostSend(v0, w0.Frame(0), 5);
        Assert.Equal(5ul, (await Stats(0)).TxDrop);
    }

    [Fact]
    public async Task DPU_61_bond_members_share_one_MTU()
    {
        await Bond(("mode", "active-backup"));
        Assert.Equal(Ok, (await _f.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 1, Mtu = 9000 })).Status);
        Assert.Equal(9000u, (await _f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 0 })).Mtu);
        Assert.Equal(9000u, (await _f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 1 })).Mtu);
        Wire(0, new TrafficSpec { Size = 9014, Dmac = "04:00:00:00:00:01" }).Send(1);
        Assert.Equal(1ul, (await Optical(0)).Ipackets); // the new MTU is in force on the member too
    }
}
