using NicScript.Driver.Memory;
using NicScript.Driver.NetDevice;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Checklist A–D of reference/netdevice.md: device information, OpenSession, Attach/Detach, Close and teardown.</summary>
public sealed class DeviceSessionTests : IDisposable
{
    private readonly NetDeviceFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static ZxStatus Status(Action call) => Assert.Throws<ZxException>(call).Status;

    [Fact]
    public void ND_01_GetInfo_reports_derived_fifo_depths_and_the_nics_parameters()
    {
        DeviceInfo i = _f.Dev.GetInfo();
        Assert.Equal((1, 5, 32, 32), ((int)i.DescriptorVersion, (int)i.MinDescriptorLength, (int)i.RxDepth, (int)i.TxDepth));
        Assert.Equal((64u, 2048u, 64u, 60u), (i.BufferAlignment, i.MaxBufferLength, i.MinRxBufferLength, i.MinTxBufferLength));
        Assert.Equal((0, 0, 4), ((int)i.MinTxBufferHead, (int)i.MinTxBufferTail, (int)i.MaxBufferParts));
        Assert.Equal([RxAcceleration.VALIDATED_ETHERNET_FCS], i.RxAccel);
        Assert.Equal([TxAcceleration.COMPUTE_ETHERNET_FCS], i.TxAccel);
        using var big = new NetDeviceFixture(Config() with { RxDepth = 1500, TxDepth = 1500 });
        Assert.Equal((2048, 2048), ((int)big.Dev.GetInfo().RxDepth, (int)big.Dev.GetInfo().TxDepth));
    }

    [Theory]
    [InlineData("buffer_alignment")]
    [InlineData("rx_threshold")]
    [InlineData("rx_depth")]
    [InlineData("rx_accel")]
    [InlineData("max_buffer_parts")]
    public void ND_02_a_NIC_that_breaks_a_rule_is_refused_naming_the_field(string field)
    {
        NicConfig bad = field switch
        {
            "buffer_alignment" => Config() with { BufferAlignment = 0 },
            "rx_threshold" => Config() with { RxThreshold = 17 },
            "rx_depth" => Config() with { RxDepth = 2049 },
            "rx_accel" => Config() with { RxAccel = [.. Enumerable.Repeat(RxAcceleration.VALIDATED_IPV4_CHECKSUM, 17)] },
            _ => Config() with { MaxBufferParts = 5 },
        };
        Assert.Equal(field, bad.Validate()!.Value.Field);
        Assert.Contains(field, Assert.Throws<ArgumentException>(() => new Device("x", bad)).Message);
        using var machine = new Machine();
        Assert.Throws<ArgumentException>(() => machine.NetDevices.Configure(new Driver.Pci.PciAddress(0, 0, 0x1f, 0), bad));
    }

    [Fact]
    public void ND_03_OpenSession_returns_a_paused_session_and_fifos_of_the_derived_depth()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        Assert.Equal((32, 32), (s.Fifos.Rx.Depth, s.Fifos.Tx.Depth));
        Assert.Equal(0, s.Session.AttachedCount);
        Assert.False(_f.Emu.Started);
        Assert.False(_f.Emu.PortActive(13));
    }

    [Theory]
    [InlineData("descriptors")]
    [InlineData("data")]
    [InlineData("descriptorVersion")]
    [InlineData("descriptorLength")]
    [InlineData("descriptorCount")]
    public void ND_04_a_missing_required_field_is_INVALID_ARGS_and_counts_no_session(string missing)
    {
        SessionInfo info = Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 64, 5, SessionFlags.PRIMARY);
        switch (missing)
        {
            case "descriptors": info.Descriptors = null; break;
            case "data": info.Data = null; break;
            case "descriptorVersion": info.DescriptorVersion = null; break;
            case "descriptorLength": info.DescriptorLength = null; break;
            default: info.DescriptorCount = null; break;
        }
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("a", info)));
        for (int i = 0; i < NetConstants.MAX_VMOS; i++) _f.Open(0); // all 32 still fit
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(255)]
    public void ND_05_a_descriptor_version_other_than_1_is_NOT_SUPPORTED_after_the_missing_field_check(byte version)
    {
        SessionInfo info = Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 64, 5, 0);
        info.DescriptorVersion = version;
        Assert.Equal(ZxStatus.ZX_ERR_NOT_SUPPORTED, Status(() => _f.Dev.OpenSession("a", info)));
        info.Data = null;
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("a", info)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void ND_06_a_descriptor_length_below_5_words_is_INVALID_ARGS(byte words)
    {
        SessionInfo info = Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 64, words, 0);
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("a", info)));
    }

    [Fact]
    public async Task ND_07_the_descriptor_stride_is_descriptor_length_words_and_extra_bytes_are_untouched()
    {
        Client p = _f.Open(SessionFlags.PRIMARY, 64, 8);
        p.Session.Attach(13, [FrameType.ETHERNET]);
        Span<byte> all = p.Descs.DeviceSpanForTests();
        for (int i = 0; i < 64; i++) all.Slice(i * 64 + 40, 24).Fill(0xA5);
        p.Post(3);
        Assert.True(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Equal([(ushort)3], p.Fifos.Rx.Read(8));
        Assert.Equal(100u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(all[(192 + 28)..]));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(all[(320 + 36)..], 0xFFFFFFFF); // a stale return_flags in slot 5
        p.Send(5, Frame(60));
        Assert.Equal([(ushort)5], p.Fifos.Tx.Read(8));
        Assert.Equal(Frame(60), Assert.Single(_f.Emu.SentFrames()).Bytes);
        Assert.Equal(0u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(all[(320 + 36)..])); // the device completed descriptor 5 at byte 320
        for (int i = 0; i < 64; i++) Assert.True(all.Slice(i * 64 + 40, 24).IndexOfAnyExcept((byte)0xA5) < 0, $"slot {i} bytes 40-63 changed");
        await p.StaysOpen();
    }

    [Fact]
    public void ND_08_a_descriptor_count_of_0_is_INVALID_ARGS()
    {
        SessionInfo info = Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 0, 5, 0);
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("a", info)));
    }

    [Fact]
    public void ND_09_region_sizes_are_checked_against_count_times_length()
    {
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("a", Info(_f.Alloc(64 * 40 - 1), _f.Alloc(4096), 64, 5, 0))));
        _f.Dev.OpenSession("b", Info(_f.Alloc(64 * 40), _f.Alloc(4096), 64, 5, 0));
        // a zero-byte data region cannot be allocated; a freed one is the same "no bytes" case
        DmaRegion data = _f.Alloc(4096);
        _f.Memory.Free(_f.Owner, data);
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Dev.OpenSession("c", Info(_f.Alloc(64 * 40), data, 64, 5, 0))));
    }

    [Fact]
    public void ND_10_names_up_to_64_bytes_duplicates_allowed_options_strict_and_optional()
    {
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Open(0, name: new string('n', 65))));
        _f.Open(0, name: new string('n', 64));
        _f.Open(0, name: "");
        _f.Open(0, name: "twin");
        _f.Open(0, name: "twin");
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => _f.Open((SessionFlags)0x0008)));
        OpenSessionResult r = _f.Dev.OpenSession("noopts", Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 64, 5, null));
        Assert.Equal((SessionFlags)0, r.Session.Flags);
        r.Session.Attach(13, [FrameType.ETHERNET]);
        Assert.False(_f.Emu.Started); // not primary: it does not start the NIC
    }

    [Fact]
    public void ND_11_the_version_is_checked_before_the_options()
    {
        SessionInfo info = Info(_f.Alloc(64 * 40), _f.Alloc(64 * 2048), 64, 5, (SessionFlags)0x0008);
        info.DescriptorVersion = 2;
        Assert.Equal(ZxStatus.ZX_ERR_NOT_SUPPORTED, Status(() => _f.Dev.OpenSession("a", info)));
    }

    [Fact]
    public async Task ND_12_the_33rd_session_is_NO_RESOURCES_until_one_has_its_epitaph()
    {
        var all = Enumerable.Range(0, 32).Select(_ => _f.Open(0, count: 4)).ToList();
        Assert.Equal(ZxStatus.ZX_ERR_NO_RESOURCES, Status(() => _f.Open(0, count: 4)));
        all[7].Session.Close();
        Assert.Equal("ZX_ERR_CANCELED", await all[7].Session.WaitClosedAsync(1000));
        _f.Open(0, count: 4);
    }

    [Fact]
    public void ND_13_attaching_a_primary_session_activates_the_port_and_starts_the_nic()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        s.Session.Attach(13, [FrameType.ETHERNET]);
        Assert.True(_f.Emu.PortActive(13));
        Assert.True(_f.Emu.Started);
    }

    public static TheoryData<int[]> BadRxTypes => new() { new[] { 2 }, new[] { 1, 2 }, new[] { 0 }, new[] { 9 }, new[] { 1, 1, 1, 1, 1 } };

    [Theory]
    [MemberData(nameof(BadRxTypes))]
    public void ND_14_rx_types_the_port_does_not_receive_are_INVALID_ARGS(int[] types)
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => s.Session.Attach(13, types.Select(t => (FrameType)t).ToArray())));
        s.Session.Attach(13, [FrameType.ETHERNET]);
    }

    [Fact]
    public void ND_15_an_unknown_port_is_NOT_FOUND_and_an_invalid_id_INVALID_ARGS()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Status(() => s.Session.Attach(14, [])));
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => s.Session.Attach(52, [])));
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, Status(() => s.Session.Detach(52)));
    }

    [Fact]
    public void ND_16_attaching_twice_is_ALREADY_BOUND_and_the_session_stays_attached()
    {
        Client p = _f.P();
        Assert.Equal(ZxStatus.ZX_ERR_ALREADY_BOUND, Status(() => p.Session.Attach(13, [FrameType.ETHERNET])));
        p.Post(0);
        Assert.True(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Equal([(ushort)0], p.Fifos.Rx.Read(1));
    }

    [Fact]
    public void ND_17_attaching_with_no_rx_types_runs_the_session_for_tx_only()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        s.Session.Attach(13, []);
        Assert.True(_f.Emu.Started);
        s.Post(0);
        _f.Emu.InjectRx(13, Frame(100));
        Assert.Empty(s.Fifos.Rx.Read(8));
        s.Send(1, Frame(60));
        Assert.Equal([(ushort)1], s.Fifos.Tx.Read(8));
        Assert.Equal(0u, s.Table.Get(1).ReturnFlags);
    }

    [Fact]
    public void ND_18_detaching_a_port_not_attached_is_NOT_FOUND()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Status(() => s.Session.Detach(13)));
    }

    [Fact]
    public void ND_19_detaching_the_last_primary_stops_the_nic_which_returns_held_tx_as_NOT_AVAILABLE()
    {
        Client p = _f.P();
        _f.Emu.HoldTx(true);
        p.Send(0, Frame(60));
        Assert.Single(_f.Emu.PendingTx());
        p.Session.Detach(13);
        Assert.False(_f.Emu.Started);
        Assert.False(_f.Emu.PortActive(13));
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0x80000004u, p.Table.Get(0).ReturnFlags);
        p.Session.Attach(13, [FrameType.ETHERNET]);
        Assert.True(_f.Emu.Started);
    }

    [Fact]
    public async Task ND_20_a_paused_session_is_not_served_until_it_attaches()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        s.Send(0, Frame(60));
        Assert.False(await s.Fifos.Tx.WaitReadableAsync(50));
        Assert.Empty(_f.Emu.SentFrames());
        s.Session.Attach(13, [FrameType.ETHERNET]);
        Assert.True(await s.Fifos.Tx.WaitReadableAsync(1000));
        Assert.Equal([(ushort)0], s.Fifos.Tx.Read(1));
        Assert.Equal(0u, s.Table.Get(0).ReturnFlags);
        Assert.Single(_f.Emu.SentFrames());
    }

    [Fact]
    public async Task ND_21_Close_gives_the_CANCELED_epitaph_and_the_session_refuses_further_use()
    {
        Client p = _f.P();
        p.Session.Close();
        await p.Closes("ZX_OK");
        Assert.Equal(ZxStatus.ZX_ERR_PEER_CLOSED, Status(() => p.Fifos.Rx.Read(1)));
        Assert.Equal(ZxStatus.ZX_ERR_PEER_CLOSED, Status(() => p.Fifos.Tx.Write([0])));
        Assert.Equal(ZxStatus.ZX_ERR_CANCELED, Status(() => p.Session.Attach(13, [FrameType.ETHERNET])));
        p.Session.Close();
        Assert.Equal("ZX_ERR_CANCELED", p.Session.Epitaph);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ND_22_the_epitaph_waits_until_the_nic_gave_back_every_buffer(bool txFirst)
    {
        Client p = _f.P();
        _f.Emu.HoldTx(true);
        _f.Emu.DeferStop(true);
        p.Post(1);
        uint rxId = Assert.Single(_f.Emu.HeldRx());
        p.Send(0, Frame(60));
        uint txId = Assert.Single(_f.Emu.PendingTx()).Id;
        p.Session.Close();
        await p.StaysOpen();
        if (txFirst) _f.Emu.CompleteTx(txId, "ZX_OK");
        else _f.Emu.ReturnRx(rxId);
        await p.StaysOpen();
        if (txFirst) _f.Emu.ReturnRx(rxId);
        else _f.Emu.CompleteTx(txId, "ZX_OK");
        await p.Closes("ZX_OK");
    }

    [Fact]
    public void ND_23_closing_the_only_session_deactivates_the_port_and_stops_the_nic()
    {
        Client p = _f.P();
        p.Session.Close();
        Assert.False(_f.Emu.PortActive(13));
        Assert.False(_f.Emu.Started);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ND_24_closing_either_fifo_closes_the_session_with_PEER_CLOSED_as_its_reason(bool tx)
    {
        Client p = _f.P();
        (tx ? p.Fifos.Tx : p.Fifos.Rx).Close();
        await p.Closes("ZX_ERR_PEER_CLOSED");
    }

    [Fact]
    public async Task ND_25_an_invalid_descriptor_closes_with_CANCELED_and_IO_INVALID_as_the_reason()
    {
        Client p = _f.P();
        p.Fifos.Tx.Write([999]);
        await p.Closes("ZX_ERR_IO_INVALID");
        Assert.Equal("ZX_ERR_CANCELED", p.Session.Epitaph);
    }

    [Fact]
    public async Task ND_26_teardown_closes_channels_at_once_and_sessions_as_their_buffers_come_back()
    {
        using Machine machine = DefaultMachine.Create();
        var address = new Driver.Pci.PciAddress(0, 0, 0x1f, 0);
        machine.NetDevices.Configure(address, Config());
        Device dev = machine.NetDevices.Get(address);
        Client Open(SessionFlags flags)
        {
            DmaRegion descs = _f.Alloc(64 * 40), data = _f.Alloc(64 * 2048);
            OpenSessionResult r = dev.OpenSession("t", Info(descs, data, 64, 5, flags));
            return new Client(r.Session, r.Fifos, new DescriptorTable(descs, 5), data, descs);
        }
        Client a = Open(SessionFlags.PRIMARY), b = Open(0), c = Open(SessionFlags.PRIMARY);
        a.Session.Attach(13, [FrameType.ETHERNET]);
        b.Session.Attach(13, [FrameType.ETHERNET]);
        PortWatcher watcher = dev.GetPortWatcher();
        Port port = dev.GetPort(13);
        StatusWatcher status = port.GetStatusWatcher(3);
        dev.Nic.DeferStop(true);
        a.Post(0);
        Assert.Single(dev.Nic.HeldRx());
        dev.Nic.Remove();
        Assert.Equal(ZxStatus.ZX_ERR_PEER_CLOSED, Status(() => dev.GetInfo()));
        Assert.Equal(ZxStatus.ZX_ERR_PEER_CLOSED, Status(() => dev.GetPortWatcher()));
        Assert.Equal(ZxStatus.ZX_ERR_UNAVAILABLE, Status(() => machine.NetDevices.Get(address)));
        Assert.Equal("ZX_ERR_PEER_CLOSED", await watcher.WaitClosedAsync(1000));
        Assert.Equal("ZX_ERR_PEER_CLOSED", await status.WaitClosedAsync(1000));
        Assert.Equal("ZX_ERR_PEER_CLOSED", await port.WaitClosedAsync(1000));
        await b.Closes("ZX_ERR_UNAVAILABLE");
        await c.Closes("ZX_ERR_UNAVAILABLE");
        await a.StaysOpen();
        dev.Nic.FinishStop();
        await a.Closes("ZX_ERR_UNAVAILABLE");
        Assert.True(dev.Gone);
        Assert.Equal(ZxStatus.ZX_ERR_NOT_FOUND, Status(() => machine.NetDevices.Get(address)));
    }
}
