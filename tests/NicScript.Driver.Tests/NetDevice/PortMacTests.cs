using NicScript.Driver.NetDevice;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Checklist I–K of reference/netdevice.md: ports and the PortWatcher, the StatusWatcher, MacAddressing.</summary>
public sealed class PortMacTests : IDisposable
{
    private readonly NetDeviceFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static async Task Pends<T>(Task<T> t) => Assert.NotSame(t, await Task.WhenAny(t, Task.Delay(50)));

    private static async Task<T> Within<T>(Task<T> t)
    {
        Assert.Same(t, await Task.WhenAny(t, Task.Delay(1000)));
        return await t;
    }

    [Fact]
    public async Task ND_60_GetPort_of_an_unknown_or_invalid_id_is_closed_with_NOT_FOUND()
    {
        foreach (byte id in new byte[] { 14, 52 })
        {
            Port port = _f.Dev.GetPort(id);
            Assert.Equal("ZX_ERR_NOT_FOUND", await port.WaitClosedAsync(1000));
            Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Assert.Throws<ZxException>(() => port.GetInfo()).Status);
        }
    }

    [Fact]
    public void ND_61_port_info_and_status()
    {
        Port port = _f.Dev.GetPort(13);
        PortInfo info = port.GetInfo();
        Assert.Equal((13, DeviceClass.ETHERNET), ((int)info.Id, info.Class));
        Assert.Equal([FrameType.ETHERNET], info.RxTypes);
        Assert.Equal(new FrameTypeSupport(FrameType.ETHERNET, 1, 0x1), Assert.Single(info.TxTypes));
        Assert.Equal(new PortStatus(StatusFlags.ONLINE, 1514), port.GetStatus());
        _f.Emu.SetStatus(13, false, 1280);
        Assert.Equal(new PortStatus(0, 1280), port.GetStatus());
    }

    [Fact]
    public async Task ND_62_GetMac_of_a_port_without_a_MAC_is_closed_with_NOT_SUPPORTED()
    {
        _f.Emu.AddPort(Port(14, noMac: true));
        MacAddressing mac = _f.Dev.GetPort(14).GetMac();
        Assert.Equal("ZX_ERR_NOT_SUPPORTED", await mac.WaitClosedAsync(1000));
        Assert.Equal(ZxStatus.ZX_ERR_NOT_SUPPORTED, Assert.Throws<ZxException>(() => mac.GetUnicastAddress()).Status);
    }

    [Fact]
    public async Task ND_63_a_new_watcher_lists_existing_ports_then_idle_then_hangs()
    {
        _f.Emu.AddPort(Port(30));
        _f.Emu.AddPort(Port(2));
        PortWatcher w = _f.Dev.GetPortWatcher();
        var seen = new List<string>();
        for (int i = 0; i < 4; i++) seen.Add((await Within(w.WatchAsync())).ToString());
        Assert.Equal(["existing(2)", "existing(13)", "existing(30)", "idle"], seen);
        await Pends(w.WatchAsync());
    }

    [Fact]
    public async Task ND_64_added_and_removed_events_arrive_in_order_and_wake_a_pending_watch()
    {
        PortWatcher w = _f.Dev.GetPortWatcher();
        while ((await Within(w.WatchAsync())).Kind != "idle") { }
        _f.Emu.AddPort(Port(5));
        _f.Emu.RemovePort(5);
        _f.Emu.AddPort(Port(5));
        _f.Emu.RemovePort(5);
        var seen = new List<string>();
        for (int i = 0; i < 4; i++) seen.Add((await Within(w.WatchAsync())).ToString());
        Assert.Equal(["added(5)", "removed(5)", "added(5)", "removed(5)"], seen);
        Task<DevicePortEvent> pending = w.WatchAsync();
        await Pends(pending);
        _f.Emu.AddPort(Port(6));
        Assert.Equal("added(6)", (await Within(pending)).ToString());
    }

    [Fact]
    public async Task ND_65_too_many_unread_events_cancel_the_watcher_and_two_hanging_watches_are_BAD_STATE()
    {
        PortWatcher w = _f.Dev.GetPortWatcher();
        while ((await Within(w.WatchAsync())).Kind != "idle") { }
        for (int i = 0; i < 32; i++)
        {
            _f.Emu.AddPort(Port(5));
            _f.Emu.RemovePort(5);
        }
        Assert.Null(w.Epitaph);
        _f.Emu.AddPort(Port(5));
        Assert.Equal("ZX_ERR_CANCELED", await w.WaitClosedAsync(1000));

        PortWatcher w2 = _f.Dev.GetPortWatcher();
        while ((await Within(w2.WatchAsync())).Kind != "idle") { }
        Task<DevicePortEvent> first = w2.WatchAsync();
        _ = w2.WatchAsync();
        Assert.Equal("ZX_ERR_BAD_STATE", await w2.WaitClosedAsync(1000));
        await Assert.ThrowsAsync<ZxException>(() => first);
    }

    [Fact]
    public async Task ND_66_removing_a_port_detaches_sessions_closes_its_channels_and_tells_watchers()
    {
        _f.Emu.AddPort(Port(14));
        Client p = _f.P();
        PortWatcher w = _f.Dev.GetPortWatcher();
        while ((await Within(w.WatchAsync())).Kind != "idle") { }
        Task<DevicePortEvent> watch = w.WatchAsync();
        Port port = _f.Dev.GetPort(13);
        StatusWatcher sw = port.GetStatusWatcher(3);
        await Within(sw.WatchStatusAsync());
        Task<PortStatus> pendingStatus = sw.WatchStatusAsync();
        _f.Emu.RemovePort(13);
        Assert.Equal("removed(13)", (await Within(watch)).ToString());
        Assert.Equal(ZxStatus.ZX_ERR_CANCELED, (await Assert.ThrowsAsync<ZxException>(() => pendingStatus)).Status);
        Assert.Equal("ZX_ERR_CANCELED", sw.Epitaph);
        Assert.Equal(ZxStatus.ZX_ERR_PEER_CLOSED, Assert.Throws<ZxException>(() => port.GetInfo()).Status);
        await p.StaysOpen();
        Assert.False(_f.Emu.Started);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Assert.Throws<ZxException>(() => p.Session.Detach(13)).Status);
        p.Session.Attach(14, [FrameType.ETHERNET]);
        p.Send(0, Frame(60), port: 13);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0x80000004u, p.Table.Get(0).ReturnFlags);
    }

    [Fact]
    public async Task ND_67_bad_port_additions_are_refused_silently_and_a_readded_port_needs_a_new_attach()
    {
        PortWatcher w = _f.Dev.GetPortWatcher();
        while ((await Within(w.WatchAsync())).Kind != "idle") { }
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Assert.Throws<ZxException>(() => _f.Emu.AddPort(Port(32))).Status);
        Assert.Equal(ZxStatus.ZX_ERR_ALREADY_EXISTS, Assert.Throws<ZxException>(() => _f.Emu.AddPort(Port(13))).Status);
        Client p = _f.P();
        _f.Emu.RemovePort(13);
        _f.Emu.AddPort(Port(13));
        Assert.Equal("removed(13)", (await Within(w.WatchAsync())).ToString()); // nothing for the two refused additions
        Assert.Equal("added(13)", (await Within(w.WatchAsync())).ToString());
        Assert.False(p.Session.Attached[13]);
        p.Session.Attach(13, [FrameType.ETHERNET]);
        p.Send(0, Frame(60));
        Assert.Equal(0u, p.Table.Get(p.Fifos.Tx.Read(1)[0]).ReturnFlags);
    }

    [Fact]
    public async Task ND_68_the_first_status_watch_answers_at_once_and_the_next_hangs_for_a_change()
    {
        StatusWatcher sw = _f.Dev.GetPort(13).GetStatusWatcher(3);
        Assert.Equal(new PortStatus(StatusFlags.ONLINE, 1514), await Within(sw.WatchStatusAsync()));
        Task<PortStatus> next = sw.WatchStatusAsync();
        await Pends(next);
        _f.Emu.SetStatus(13, true, 1000);
        Assert.Equal(1000u, (await Within(next)).Mtu);
    }

    [Fact]
    public async Task ND_69_an_equal_status_is_not_reported()
    {
        StatusWatcher sw = _f.Dev.GetPort(13).GetStatusWatcher(3);
        await Within(sw.WatchStatusAsync());
        Task<PortStatus> next = sw.WatchStatusAsync();
        _f.Emu.SetStatus(13, true, 1514);
        await Pends(next);
        _f.Emu.SetStatus(13, false, 1514);
        Assert.Equal((StatusFlags)0, (await Within(next)).Flags);
    }

    [Theory]
    [InlineData(3u, new uint[] { 100, 200, 300 })]
    [InlineData(2u, new uint[] { 200, 300 })]
    public async Task ND_70_queued_statuses_keep_the_newest_buffer_entries(uint buffer, uint[] expected)
    {
        StatusWatcher sw = _f.Dev.GetPort(13).GetStatusWatcher(buffer);
        await Within(sw.WatchStatusAsync());
        foreach (uint mtu in new uint[] { 100, 200, 300 }) _f.Emu.SetStatus(13, true, mtu);
        foreach (uint mtu in expected) Assert.Equal(mtu, (await Within(sw.WatchStatusAsync())).Mtu);
        await Pends(sw.WatchStatusAsync());
    }

    [Fact]
    public async Task ND_71_buffer_sizes_are_clamped_and_a_second_hanging_call_answers_the_first()
    {
        foreach (uint buffer in new uint[] { 0, 1 })
        {
            StatusWatcher sw = _f.Dev.GetPort(13).GetStatusWatcher(buffer);
            await Within(sw.WatchStatusAsync());
            foreach (uint mtu in new uint[] { 101, 102, 103 }) _f.Emu.SetStatus(13, true, mtu);
            Assert.Equal(103u, (await Within(sw.WatchStatusAsync())).Mtu);
            _f.Emu.SetStatus(13, true, 1514);
            await Within(sw.WatchStatusAsync());
        }
        StatusWatcher big = _f.Dev.GetPort(13).GetStatusWatcher(1000);
        for (uint i = 1; i <= 59; i++) _f.Emu.SetStatus(13, true, 2000 + i);
        for (uint i = 10; i <= 59; i++) Assert.Equal(2000 + i, (await Within(big.WatchStatusAsync())).Mtu);
        Task<PortStatus> first = big.WatchStatusAsync();
        await Pends(first);
        Task<PortStatus> second = big.WatchStatusAsync();
        Assert.Equal(2059u, (await Within(first)).Mtu);
        await Pends(second);
    }

    [Fact]
    public void ND_72_the_unicast_address_and_the_startup_mode_is_the_most_restrictive_supported()
    {
        Assert.Equal("02:00:00:00:00:0d", _f.Dev.GetPort(13).GetMac().GetUnicastAddress());
        Assert.Equal(MacFilterMode.MULTICAST_FILTER, _f.Emu.MacState(13)!.Mode);
        _f.Emu.AddPort(Port(14, modes: [MacFilterMode.MULTICAST_PROMISCUOUS, MacFilterMode.PROMISCUOUS]));
        _f.Emu.AddPort(Port(15, modes: [MacFilterMode.PROMISCUOUS]));
        Assert.Equal(MacFilterMode.MULTICAST_PROMISCUOUS, _f.Emu.MacState(14)!.Mode);
        Assert.Equal(MacFilterMode.PROMISCUOUS, _f.Emu.MacState(15)!.Mode);
    }

    [Fact]
    public void ND_73_an_unsupported_mode_resolves_to_the_next_less_restrictive_one()
    {
        _f.Emu.AddPort(Port(14, modes: [MacFilterMode.MULTICAST_FILTER, MacFilterMode.PROMISCUOUS]));
        Assert.Equal("ZX_OK", _f.Dev.GetPort(14).GetMac().SetMode(MacFilterMode.MULTICAST_PROMISCUOUS));
        Assert.Equal(MacFilterMode.PROMISCUOUS, _f.Emu.MacState(14)!.Mode);
    }

    [Fact]
    public void ND_74_a_mode_with_nothing_at_least_as_permissive_is_NOT_SUPPORTED()
    {
        _f.Emu.AddPort(Port(14, modes: [MacFilterMode.MULTICAST_FILTER]));
        Assert.Equal("ZX_ERR_NOT_SUPPORTED", _f.Dev.GetPort(14).GetMac().SetMode(MacFilterMode.PROMISCUOUS));
        Assert.Equal(MacFilterMode.MULTICAST_FILTER, _f.Emu.MacState(14)!.Mode);
    }

    [Fact]
    public void ND_75_the_least_restrictive_client_wins_and_closing_it_falls_back()
    {
        MacAddressing c1 = _f.Dev.GetPort(13).GetMac(), c2 = _f.Dev.GetPort(13).GetMac();
        Assert.Equal("ZX_OK", c1.AddMulticastAddress("01:00:00:00:00:02"));
        Assert.Equal("ZX_OK", c2.SetMode(MacFilterMode.PROMISCUOUS));
        Assert.Equal(new MacState(MacFilterMode.PROMISCUOUS, []).Mode, _f.Emu.MacState(13)!.Mode);
        Assert.Empty(_f.Emu.MacState(13)!.Multicast);
        c2.Close();
        Assert.Equal(MacFilterMode.MULTICAST_FILTER, _f.Emu.MacState(13)!.Mode);
        Assert.Equal(["01:00:00:00:00:02"], _f.Emu.MacState(13)!.Multicast);
        c2 = _f.Dev.GetPort(13).GetMac();
        c1.SetMode(MacFilterMode.MULTICAST_PROMISCUOUS);
        c2.SetMode(MacFilterMode.MULTICAST_FILTER);
        Assert.Equal(MacFilterMode.MULTICAST_PROMISCUOUS, _f.Emu.MacState(13)!.Mode);
    }

    [Fact]
    public void ND_76_only_multicast_addresses_are_accepted()
    {
        MacAddressing mac = _f.Dev.GetPort(13).GetMac();
        Assert.Equal("ZX_ERR_INVALID_ARGS", mac.AddMulticastAddress("00:01:02:03:04:05"));
        Assert.Equal("ZX_ERR_INVALID_ARGS", mac.RemoveMulticastAddress("00:01:02:03:04:05"));
        Assert.Equal("ZX_OK", mac.AddMulticastAddress("ff:ff:ff:ff:ff:ff"));
        Assert.Equal("ZX_OK", mac.AddMulticastAddress(new byte[] { 0x33, 0x33, 0, 0, 0, 1 }));
        Assert.Equal("ZX_OK", mac.RemoveMulticastAddress("01:00:5e:7f:00:09"));
    }

    [Fact]
    public void ND_77_lists_merge_up_to_the_filter_count_then_overflow_and_a_client_holds_at_most_64()
    {
        MacAddressing c1 = _f.Dev.GetPort(13).GetMac(), c2 = _f.Dev.GetPort(13).GetMac();
        foreach (int i in new[] { 1, 2, 3 }) c1.AddMulticastAddress($"01:00:00:00:00:0{i}");
        c2.AddMulticastAddress("01:00:00:00:00:04");
        Assert.Equal(MacFilterMode.MULTICAST_FILTER, _f.Emu.MacState(13)!.Mode);
        Assert.Equal(4, _f.Emu.MacState(13)!.Multicast.Length);
        c2.AddMulticastAddress("01:00:00:00:00:05");
        Assert.Equal(MacFilterMode.MULTICAST_PROMISCUOUS, _f.Emu.MacState(13)!.Mode);
        Assert.Empty(_f.Emu.MacState(13)!.Multicast);
        MacAddressing c3 = _f.Dev.GetPort(13).GetMac();
        for (int i = 0; i < 64; i++) Assert.Equal("ZX_OK", c3.AddMulticastAddress($"01:00:00:00:01:{i:x2}"));
        Assert.Equal("ZX_ERR_NO_RESOURCES", c3.AddMulticastAddress("01:00:00:00:02:00"));
        Assert.Equal("ZX_ERR_NO_RESOURCES", c3.AddMulticastAddress("01:00:00:00:01:00"));
    }

    [Fact]
    public void ND_78_the_multicast_list_survives_mode_changes()
    {
        MacAddressing c = _f.Dev.GetPort(13).GetMac();
        c.AddMulticastAddress("01:00:5e:00:00:01");
        c.SetMode(MacFilterMode.PROMISCUOUS);
        Assert.Empty(_f.Emu.MacState(13)!.Multicast);
        c.SetMode(MacFilterMode.MULTICAST_FILTER);
        Assert.Equal(["01:00:5e:00:00:01"], _f.Emu.MacState(13)!.Multicast);
    }

    [Fact]
    public void ND_79_the_effective_filter_decides_what_the_wire_delivers()
    {
        Client p = _f.P();
        p.Post(Enumerable.Range(0, 32).Select(i => (ushort)i).ToArray());
        byte[][] frames =
        [
            Frame(60, Mac13), Frame(60, [0x02, 0, 0, 0, 0, 0x99]), Frame(60, [0x01, 0, 0x5e, 0, 0, 1]), Frame(60, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ];
        int Deliver()
        {
            foreach (byte[] f in frames) _f.Emu.FromWire(13, f);
            return p.Fifos.Rx.Read(8).Length;
        }
        MacAddressing mac = _f.Dev.GetPort(13).GetMac();
        Assert.Equal(2, Deliver());
        mac.AddMulticastAddress("01:00:5e:00:00:01");
        Assert.Equal(3, Deliver());
        mac.RemoveMulticastAddress("01:00:5e:00:00:01");
        mac.SetMode(MacFilterMode.MULTICAST_PROMISCUOUS);
        Assert.Equal(3, Deliver());
        mac.SetMode(MacFilterMode.PROMISCUOUS);
        Assert.Equal(4, Deliver());
        Assert.True(_f.Emu.InjectRx(13, frames[1])); // injectRx bypasses the filter
    }
}
