using NicScript.Driver.NetDevice;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Checklist G–H of reference/netdevice.md: receive, the primary session, LISTEN_TX.</summary>
public sealed class ReceiveTests : IDisposable
{
    private readonly NetDeviceFixture _f = new(null, Port(14));

    public void Dispose() => _f.Dispose();

    [Fact]
    public void ND_47_a_received_frame_fills_the_descriptor_as_section_1_2_says()
    {
        Client p = _f.P();
        p.Post(4);
        byte[] frame = Frame(100);
        Assert.True(_f.Emu.InjectRx(13, frame, FrameType.ETHERNET, RxFlags.RX_ACCEL_0));
        Assert.Equal([(ushort)4], p.Fifos.Rx.Read(8));
        BufferDescriptor d = p.Table.Get(4);
        Assert.Equal((13, 1, 0u, 0x1u), ((int)d.PortId, (int)d.FrameType, d.InfoType, d.InboundFlags));
        Assert.Equal((0, 100u, 1948, 0, 0xFFFF, 8192ul), ((int)d.HeadLength, d.DataLength, (int)d.TailLength, (int)d.ChainLength, (int)d.Nxt, d.Offset));
        Assert.Equal(frame, p.Bytes(8192, 100).ToArray());
    }

    [Fact]
    public void ND_48_a_frame_larger_than_one_buffer_comes_back_chained_and_one_too_large_is_dropped()
    {
        Client p = _f.P();
        p.PostSized(1024, 0, 1, 2, 3, 4, 5, 6, 7);
        byte[] frame = Frame(3000);
        Assert.True(_f.Emu.InjectRx(13, frame));
        ushort first = Assert.Single(p.Fifos.Rx.Read(8));
        BufferDescriptor a = p.Table.Get(first), b = p.Table.Get(a.Nxt), c = p.Table.Get(b.Nxt);
        Assert.Equal((2, 1, 0), ((int)a.ChainLength, (int)b.ChainLength, (int)c.ChainLength));
        Assert.Equal(3000u, a.DataLength + b.DataLength + c.DataLength);
        Assert.Equal((13, 1), ((int)a.PortId, (int)a.FrameType));
        Assert.Equal((0, 0, 0u), ((int)b.FrameType, (int)c.PortId, b.InboundFlags)); // written on the first only
        Assert.Equal(frame, p.ReadChain(first));
        Assert.False(_f.Emu.InjectRx(13, Frame(5000)));
        Assert.Empty(p.Fifos.Rx.Read(8));
    }

    [Fact]
    public void ND_49_frames_on_other_ports_or_of_other_types_go_straight_back_to_the_nic()
    {
        Client p = _f.P();
        p.Post(0, 1, 2);
        int held = _f.Emu.HeldRx().Length;
        _f.Emu.InjectRx(14, Frame(100));
        _f.Emu.InjectRx(13, Frame(100), FrameType.IPV4);
        Assert.Empty(p.Fifos.Rx.Read(8));
        Assert.Equal(held, _f.Emu.HeldRx().Length);
    }

    [Fact]
    public void ND_50_every_attached_session_gets_every_frame_in_its_own_buffers()
    {
        Client p = _f.P(), n = _f.Open(0);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        p.Post(0, 1, 2, 3, 4);
        n.Post(10, 11, 12, 13, 14);
        for (byte i = 0; i < 5; i++) Assert.True(_f.Emu.InjectRx(13, Bytes(15, i)));
        foreach (Client c in new[] { p, n })
        {
            ushort[] got = c.Fifos.Rx.Read(8);
            Assert.Equal(5, got.Length);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => Bytes(15, (byte)i)), got.Select(c.ReadChain));
        }
    }

    [Fact]
    public void ND_51_without_a_primary_session_there_is_no_rx()
    {
        Client n = _f.Open(0);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        n.Post(0, 1);
        Assert.False(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Empty(n.Fifos.Rx.Read(8));
    }

    [Fact]
    public void ND_52_only_the_primary_supplies_buffers_to_the_nic()
    {
        Client p = _f.P(), n = _f.Open(0);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        n.Post(0, 1);
        Assert.False(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Empty(n.Fifos.Rx.Read(8));
        p.Post(5);
        Assert.True(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Equal([(ushort)5], p.Fifos.Rx.Read(8));
        Assert.Single(n.Fifos.Rx.Read(8));
    }

    [Fact]
    public void ND_53_the_running_primary_with_more_descriptors_supplies_the_buffers()
    {
        Client a = _f.Open(SessionFlags.PRIMARY, 64), b = _f.Open(SessionFlags.PRIMARY, 128);
        a.Session.Attach(13, [FrameType.ETHERNET]);
        b.Session.Attach(13, [FrameType.ETHERNET]);
        a.Post(0, 1, 2);
        Assert.False(_f.Emu.InjectRx(13, Frame(100)));
        b.Session.Detach(13);
        Assert.True(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Single(a.Fifos.Rx.Read(8));
        b.Post(100, 101);
        b.Session.Attach(13, [FrameType.ETHERNET]);
        Assert.All(_f.Emu.HeldRx(), id => Assert.Equal(b.Session.BufferId(0) >> 16, id >> 16));
        Assert.True(_f.Emu.InjectRx(13, Frame(100)));
        Assert.Equal([(ushort)100], b.Fifos.Rx.Read(8));
        Assert.Single(a.Fifos.Rx.Read(8)); // a copy
    }

    [Fact]
    public async Task ND_54_a_closing_primarys_held_buffer_still_carries_a_frame_to_the_others()
    {
        Client a = _f.P(), b = _f.Open(SessionFlags.PRIMARY, 64);
        b.Session.Attach(13, [FrameType.ETHERNET]);
        a.Post(0);
        b.Post(1, 2);
        Assert.Single(_f.Emu.HeldRx()); // a is primary (first, same size): its one buffer is at the NIC
        _f.Emu.DeferStop(true);
        a.Session.Close();
        await a.StaysOpen();
        Assert.True(_f.Emu.InjectRx(13, Bytes(5, 9)));
        ushort got = Assert.Single(b.Fifos.Rx.Read(8));
        Assert.Equal(5u, b.Table.Get(got).DataLength);
        await a.Closes("ZX_OK");
    }

    [Fact]
    public async Task ND_55_a_copy_chains_the_receivers_small_buffers_or_is_dropped_for_it_alone()
    {
        Client p = _f.P(), n = _f.Open(0);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        p.Post(0, 1);
        n.PostSized(512, 10, 11, 12);
        byte[] frame = Frame(1500);
        Assert.True(_f.Emu.InjectRx(13, frame));
        ushort first = Assert.Single(n.Fifos.Rx.Read(8));
        BufferDescriptor a = n.Table.Get(first), b = n.Table.Get(a.Nxt), c = n.Table.Get(b.Nxt);
        Assert.Equal((512u, 512u, 476u), (a.DataLength, b.DataLength, c.DataLength));
        Assert.Equal(frame, n.ReadChain(first));
        n.PostSized(512, 20, 21);
        Assert.True(_f.Emu.InjectRx(13, frame));
        Assert.Empty(n.Fifos.Rx.Read(8));
        Assert.Equal(2, p.Fifos.Rx.Read(8).Length);
        await n.StaysOpen();
    }

    [Fact]
    public void ND_56_validation_errors_go_only_to_REPORT_INVALID_RX_and_empty_frames_to_nobody()
    {
        Client p = _f.P(), r = _f.Open(SessionFlags.REPORT_INVALID_RX);
        r.Session.Attach(13, [FrameType.ETHERNET]);
        p.Post(0, 1, 2);
        r.Post(10, 11, 12);
        Assert.True(_f.Emu.InjectRx(13, Frame(100), FrameType.ETHERNET, RxFlags.RX_VALIDATION_ERROR));
        Assert.Equal(0x40000000u, r.Table.Get(Assert.Single(r.Fifos.Rx.Read(8))).InboundFlags);
        Assert.Empty(p.Fifos.Rx.Read(8));
        Assert.True(_f.Emu.InjectRx(13, Frame(100), FrameType.ETHERNET, RxFlags.RX_OVERRUN | RxFlags.RX_ACCEL_0));
        Assert.Equal(0x20000001u, r.Table.Get(Assert.Single(r.Fifos.Rx.Read(8))).InboundFlags);
        Assert.Equal(0x20000001u, p.Table.Get(Assert.Single(p.Fifos.Rx.Read(8))).InboundFlags);
        _f.Emu.InjectRx(13, []);
        Assert.Empty(p.Fifos.Rx.Read(8));
        Assert.Empty(r.Fifos.Rx.Read(8));
    }

    [Fact]
    public async Task ND_57_a_LISTEN_TX_session_gets_an_echo_of_what_others_send()
    {
        Client p = _f.P(), l = _f.Open(SessionFlags.LISTEN_TX), n = _f.Open(0);
        l.Session.Attach(13, [FrameType.ETHERNET]);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        l.Post(20);
        n.Post(30);
        byte[] frame = new byte[60];
        frame[0] = 1; frame[1] = 2; frame[2] = 3; frame[3] = 4;
        p.Send(0, frame);
        ushort got = Assert.Single(l.Fifos.Rx.Read(8));
        BufferDescriptor d = l.Table.Get(got);
        Assert.Equal((0x80000000u, 13, 1, 0u), (d.InboundFlags, (int)d.PortId, (int)d.FrameType, d.InfoType));
        Assert.Equal(frame, l.ReadChain(got));
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Empty(n.Fifos.Rx.Read(8)); // no echo for a session without LISTEN_TX
        p.Send(1, frame); // l has no buffer now: dropped silently
        Assert.Empty(l.Fifos.Rx.Read(8));
        await l.StaysOpen();
    }

    [Fact]
    public void ND_58_echoes_follow_the_listeners_ports()
    {
        Client p = _f.P(), l = _f.Open(SessionFlags.LISTEN_TX);
        p.Session.Attach(14, [FrameType.ETHERNET]);
        l.Session.Attach(13, [FrameType.ETHERNET]);
        l.Post(20, 21);
        p.Send(0, Frame(60), port: 13);
        p.Send(1, Frame(60), port: 14);
        Assert.Equal(13, l.Table.Get(Assert.Single(l.Fifos.Rx.Read(8))).PortId);
        Assert.Empty(l.Fifos.Rx.Read(8));
    }

    [Fact]
    public void ND_59_a_listening_sender_hears_itself_but_not_returned_frames()
    {
        Client pl = _f.Open(SessionFlags.PRIMARY | SessionFlags.LISTEN_TX);
        pl.Session.Attach(13, [FrameType.ETHERNET]);
        pl.Post(20, 21, 22);
        byte[] frame = Frame(60);
        pl.Send(0, frame);
        ushort got = Assert.Single(pl.Fifos.Rx.Read(8));
        Assert.Equal(0x80000000u, pl.Table.Get(got).InboundFlags);
        Assert.Equal(frame, pl.ReadChain(got));
        Assert.Equal([(ushort)0], pl.Fifos.Tx.Read(8));
        Assert.Equal(0u, pl.Table.Get(0).ReturnFlags);
        pl.Send(1, frame, port: 31);
        pl.Send(2, frame, type: FrameType.IPV4);
        Assert.Equal([(ushort)1, 2], pl.Fifos.Tx.Read(8));
        Assert.Empty(pl.Fifos.Rx.Read(8));
    }
}
