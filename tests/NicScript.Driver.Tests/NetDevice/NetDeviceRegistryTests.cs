using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Pci;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>The machine's NICs as netdevices: frames really cross the virtio-net and MANA functions and their wires; hot-removal.</summary>
public sealed class NetDeviceRegistryTests
{
    private static readonly PciAddress Virtio = new(0, 0, 0x1f, 0);

    private static Client Open(Machine m, Device dev, DmaOwner owner, SessionFlags flags, int count = 64)
    {
        Assert.Equal(DmaError.None, m.Dma.TryAllocate(owner, count * 40, out DmaRegion descs));
        Assert.Equal(DmaError.None, m.Dma.TryAllocate(owner, count * 2048, out DmaRegion data));
        OpenSessionResult r = dev.OpenSession("t", Info(descs, data, count, 5, flags));
        return new Client(r.Session, r.Fifos, new DescriptorTable(descs, 5), data, descs);
    }

    private static byte[] To(byte[] mac, int length, byte tag)
    {
        byte[] f = Frame(length, mac);
        mac.CopyTo(f, 6);
        f[12] = 0x88;
        f[13] = 0xb5; // local experimental ethertype
        f[14] = tag;
        return f;
    }

    [Fact]
    public void Every_network_function_is_a_device_with_one_port_on_its_wire_and_a_non_nic_is_NOT_FOUND()
    {
        using Machine m = DefaultMachine.Create();
        Device virtio = m.NetDevices.Get(Virtio);
        Assert.Same(virtio, m.NetDevices.Get(Virtio));
        Assert.Equal("52:54:00:12:34:56", virtio.GetPort(0).GetMac().GetUnicastAddress());
        Device mana = m.NetDevices.Get(DefaultMachine.ManaVf);
        Assert.Equal("00:15:5d:00:00:01", mana.GetPort(0).GetMac().GetUnicastAddress());
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Assert.Throws<ZxException>(() => m.NetDevices.Get(DefaultMachine.ManaPf)).Status);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Assert.Throws<ZxException>(() => m.NetDevices.Get(new PciAddress(0, 0, 3, 0))).Status);
    }

    [Fact]
    public void Every_device_with_a_wire_port_is_offered_its_port_whoever_placed_it()
    {
        using Machine m = DefaultMachine.Create();
        var dpu = new DpuDevice(m, new DpuConfig(), VirtioDpuFunctions.Instance);
        Assert.True(dpu.AddElasticNic(7, [0x02, 0, 0, 0, 0, 7], 1500)); // a DPU's elastic NIC: placed by the DPU, not the composer
        IDeviceModel[] ported = m.Devices.Where(d => d.Port is not null).ToArray();
        Assert.Equal(3, ported.Length); // virtio-net, the MANA VF, the elastic NIC
        foreach (IDeviceModel d in ported)
            Assert.Equal([(byte)0], m.NetDevices.Get(d.Function.Address).PortIds());
        Assert.Equal("02:00:00:00:00:07", m.NetDevices.Get(DpuDevice.ElasticNicAddress(7)).GetPort(0).GetMac().GetUnicastAddress());
    }

    [Theory]
    [InlineData("virtio")]
    [InlineData("mana")]
    public void Two_sessions_exchange_traffic_with_the_wire_while_a_third_listens_and_the_counters_agree(string nic)
    {
        using Machine m = DefaultMachine.Create();
        PciAddress address = nic == "virtio" ? Virtio : DefaultMachine.ManaVf;
        Device dev = m.NetDevices.Get(address);
        DmaOwner owner = m.Dma.CreateOwner("client", 1L << 28);
        Client a = Open(m, dev, owner, SessionFlags.PRIMARY), b = Open(m, dev, owner, 0), l = Open(m, dev, owner, SessionFlags.LISTEN_TX, 128);
        a.Session.Attach(0, [FrameType.ETHERNET]);
        b.Session.Attach(0, [FrameType.ETHERNET]);
        l.Session.Attach(0, []); // echoes only: with [ETHERNET] it would also get copies of what arrives
        byte[] mac = dev.GetPort(0).GetMac().GetUnicastAddress().Split(':').Select(x => Convert.ToByte(x, 16)).ToArray();
        const int Rounds = 20;
        int aRx = 0, bRx = 0, lRx = 0;
        var received = new List<byte[]>();
        ushort[] rxSpace = Enumerable.Range(32, 16).Select(i => (ushort)i).ToArray();
        a.Post(rxSpace);
        b.Post(rxSpace);
        l.Post(rxSpace);
        for (int round = 0; round < Rounds; round++)
        {
            foreach (Client c in new[] { a, b })
            {
                for (ushort i = 0; i < 2; i++)
                {
                    byte[] f = To(mac, 100 + round, (byte)(c == a ? 0xA : 0xB));
                    f.CopyTo(c.Bytes(i * 2048, f.Length));
                    c.Table.Set(i, new BufferDescriptor { FrameType = 1, PortId = 0, Offset = (ulong)(i * 2048), DataLength = (uint)f.Length });
                }
                Assert.Equal(2, c.Fifos.Tx.Write([0, 1]));
            }
            foreach (Client c in new[] { a, b })
            {
                ushort[] done = c.Fifos.Tx.Read(8);
                Assert.Equal(2, done.Length);
                Assert.All(done, i => Assert.Equal(0u, c.Table.Get(i).ReturnFlags));
            }
            ushort[] got = a.Fifos.Rx.Read(16);
            foreach (ushort i in got) received.Add(a.ReadChain(i));
            aRx += got.Length;
            a.Post(got);
            got = b.Fifos.Rx.Read(16);
            bRx += got.Length;
            b.Post(got);
            got = l.Fifos.Rx.Read(16);
            lRx += got.Length;
            Assert.All(got, i => Assert.Equal(0x80000000u, l.Table.Get(i).InboundFlags));
            l.Post(got);
        }
        Assert.Equal(Rounds * 4, aRx);
        Assert.Equal(aRx, bRx);
        Assert.Equal(Rounds * 4, lRx);
        Assert.Equal(Rounds * 4, dev.Nic.UplinkTxFrames);
        Assert.Equal(Rounds * 4, dev.Nic.UplinkRxFrames);
        Assert.Equal(2 * Rounds, received.Count(f => f[14] == 0xA));
        Assert.Equal(2 * Rounds, received.Count(f => f[14] == 0xB));
    }

    [Fact]
    public async Task The_port_status_follows_the_virtio_link_through_its_config_interrupt()
    {
        using Machine m = DefaultMachine.Create();
        Device dev = m.NetDevices.Get(Virtio);
        DmaOwner owner = m.Dma.CreateOwner("client", 1L << 28);
        Client p = Open(m, dev, owner, SessionFlags.PRIMARY);
        p.Session.Attach(0, [FrameType.ETHERNET]); // starts the NIC: the virtio function comes up
        StatusWatcher sw = dev.GetPort(0).GetStatusWatcher(4);
        Assert.Equal(StatusFlags.ONLINE, (await sw.WatchStatusAsync()).Flags);
        Task<PortStatus> next = sw.WatchStatusAsync();
        m.Links[0].SetCarrier(false);
        m.Devices.OfType<VirtioNetDevice>().First().OnLinkChanged();
        Assert.Same(next, await Task.WhenAny(next, Task.Delay(5000)));
        Assert.Equal((StatusFlags)0, (await next).Flags);
        p.Send(0, To([0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 60, 1), port: 0);
        Assert.Equal(0x80000004u, p.Table.Get(p.Fifos.Tx.Read(1)[0]).ReturnFlags); // offline: not available
        m.Links[0].SetCarrier(true);
        m.Devices.OfType<VirtioNetDevice>().First().OnLinkChanged();
        Assert.Equal(StatusFlags.ONLINE, (await sw.WatchStatusAsync().WaitAsync(TimeSpan.FromSeconds(5))).Flags);
    }

    [Fact]
    public async Task Hot_removing_the_nic_during_traffic_detaches_then_closes_and_leaks_no_dma()
    {
        using Machine m = DefaultMachine.Create();
        long before = m.Dma.AllocatedBytes;
        Device dev = m.NetDevices.Get(DefaultMachine.ManaVf);
        DmaOwner owner = m.Dma.CreateOwner("client", 1L << 28);
        Client p = Open(m, dev, owner, SessionFlags.PRIMARY), n = Open(m, dev, owner, 0);
        p.Session.Attach(0, [FrameType.ETHERNET]);
        n.Session.Attach(0, [FrameType.ETHERNET]);
        PortWatcher w = dev.GetPortWatcher();
        Assert.Equal("existing(0)", (await w.WatchAsync()).ToString());
        Assert.Equal("idle", (await w.WatchAsync()).ToString());
        Task<DevicePortEvent> removed = w.WatchAsync();
        byte[] mac = [0x00, 0x15, 0x5d, 0x00, 0x00, 0x01];
        p.Post(Enumerable.Range(32, 16).Select(i => (ushort)i).ToArray());
        for (ushort i = 0; i < 8; i++)
        {
            byte[] f = To(mac, 200, (byte)i);
            f.CopyTo(p.Bytes(i * 2048, f.Length));
            p.Table.Set(i, new BufferDescriptor { FrameType = 1, PortId = 0, Offset = (ulong)(i * 2048), DataLength = (uint)f.Length });
        }
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var traffic = Task.Run(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int round = 0; clock.ElapsedMilliseconds < 10_000; round++)
            {
                try
                {
                    p.Fifos.Tx.Write([0, 1, 2, 3, 4, 5, 6, 7]);
                    p.Fifos.Tx.Read(8);
                    ushort[] got = p.Fifos.Rx.Read(16);
                    p.Post(got); // a client resets a returned descriptor before posting it again
                    if (round == 10) running.TrySetResult();
                }
                catch (ZxException e) when (e.Status == ZxStatus.ZX_ERR_PEER_CLOSED)
                {
                    return round;
                }
            }
            return -1;
        });
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30)); // traffic is flowing (the pool may be slow to start it under load)
        PciFunction pf = m.Pci.Functions.First(f => f.Address == DefaultMachine.ManaPf);
        pf.Config.Write(SriovCapability.Control, 2, 0); // the hypervisor takes the VF away
        Assert.Equal("removed(0)", (await removed).ToString());
        Assert.Equal("ZX_ERR_PEER_CLOSED", await w.WaitClosedAsync(1000));
        await p.Closes("ZX_ERR_UNAVAILABLE");
        await n.Closes("ZX_ERR_UNAVAILABLE");
        int stoppedAt = await traffic;
        Assert.True(stoppedAt > 0, $"traffic ran {stoppedAt} rounds before the removal");
        Assert.True(p.Fifos.Rx.Depth > 0);
        Assert.True(dev.Gone);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Assert.Throws<ZxException>(() => m.NetDevices.Get(DefaultMachine.ManaVf)).Status);
        m.Dma.Reclaim(owner);
        Assert.Equal(before, m.Dma.AllocatedBytes); // the netdevice's own rings and pools went back too

        pf.Config.Write(SriovCapability.Control, 2, 0x0009); // re-enabled: a fresh device appears
        Assert.Equal("existing(0)", (await m.NetDevices.Get(DefaultMachine.ManaVf).GetPortWatcher().WatchAsync()).ToString());
    }
}
