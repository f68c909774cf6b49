using NicScript.Driver.NetDevice;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Checklist E–F of reference/netdevice.md: invalid descriptors and transmit.</summary>
public sealed class DataPathTests : IDisposable
{
    private readonly NetDeviceFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static NetDeviceFixture WithHeadTail(ushort head, ushort tail) => new(Config() with { MinTxBufferHead = head, MinTxBufferTail = tail });

    /// <summary>Sets descriptor <paramref name="index"/> as part of a tx chain.</summary>
    private static void Part(Client c, ushort index, uint data, byte chain, ushort nxt, ushort head = 0, ushort tail = 0) =>
        c.Table.Set(index, new BufferDescriptor
        {
            FrameType = (byte)FrameType.ETHERNET, PortId = 13, Offset = (ulong)(index * 2048), HeadLength = head, DataLength = data,
            TailLength = tail, ChainLength = chain, Nxt = nxt,
        });

    [Fact]
    public async Task ND_27_a_tx_index_beyond_the_descriptor_count_closes_the_session()
    {
        Client p = _f.P();
        p.Fifos.Tx.Write([64]);
        await p.Closes();
        Assert.Empty(_f.Emu.SentFrames());
    }

    [Fact]
    public async Task ND_28_an_rx_index_beyond_the_descriptor_count_closes_the_session()
    {
        Client p = _f.P();
        p.Fifos.Rx.Write([64]);
        await p.Closes();
    }

    [Fact]
    public async Task ND_29_a_chain_of_five_closes_and_a_chain_of_four_is_sent_as_one_frame()
    {
        Client p = _f.P();
        byte[][] parts = [Bytes(10, 1), Bytes(20, 2), Bytes(30, 3), Bytes(40, 4)];
        for (int k = 0; k < 4; k++)
        {
            parts[k].CopyTo(p.Bytes(k * 2048, parts[k].Length));
            Part(p, (ushort)k, (uint)parts[k].Length, (byte)(3 - k), (ushort)(k + 1));
        }
        p.Fifos.Tx.Write([0]);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(parts.SelectMany(x => x).ToArray(), Assert.Single(_f.Emu.SentFrames()).Bytes);
        for (int k = 0; k < 5; k++) Part(p, (ushort)(10 + k), 20, (byte)(4 - k), (ushort)(11 + k));
        p.Fifos.Tx.Write([10]);
        await p.Closes();
        Assert.Empty(_f.Emu.SentFrames());
    }

    [Fact]
    public async Task ND_30_a_chain_with_a_bad_next_index_or_a_wrong_count_closes_the_session()
    {
        Client p = _f.P();
        Part(p, 0, 60, 1, 64);
        p.Fifos.Tx.Write([0]);
        await p.Closes();
        using var f2 = new NetDeviceFixture();
        Client q = f2.P();
        Part(q, 0, 30, 2, 1);
        Part(q, 1, 30, 0, 2);
        Part(q, 2, 30, 0, 0);
        q.Fifos.Tx.Write([0]);
        await q.Closes();
    }

    [Fact]
    public async Task ND_31_chained_rx_space_closes_the_session()
    {
        Client p = _f.P();
        p.Table.Set(0, new BufferDescriptor { Offset = 0, DataLength = 2048, ChainLength = 1, Nxt = 1 });
        p.Fifos.Rx.Write([0]);
        await p.Closes();
    }

    [Fact]
    public async Task ND_32_rx_space_below_min_rx_buffer_length_closes_and_the_nic_never_gets_it()
    {
        Client p = _f.P();
        p.PostSized(64, 1);
        Assert.Single(_f.Emu.HeldRx());
        p.PostSized(63, 0);
        await p.Closes();
        Assert.DoesNotContain(_f.Emu.HeldRx(), id => (id & 0xFFFF) == 0);
    }

    [Fact]
    public async Task ND_33_a_frame_below_min_tx_buffer_length_closes_while_60_bytes_or_30_plus_30_are_sent()
    {
        Client p = _f.P();
        p.Send(0, Frame(60));
        Part(p, 1, 30, 1, 2);
        Part(p, 2, 30, 0, 0);
        p.Fifos.Tx.Write([1]);
        Assert.Equal([(ushort)0, 1], p.Fifos.Tx.Read(8));
        Assert.Equal(2, _f.Emu.SentFrames().Length);
        p.Send(3, Frame(59));
        await p.Closes();
        Assert.Empty(_f.Emu.SentFrames());
    }

    [Fact]
    public async Task ND_34_head_below_min_head_or_a_last_tail_below_min_tail_closes()
    {
        using NetDeviceFixture f = WithHeadTail(16, 4);
        Client ok = f.P();
        Part(ok, 0, 60, 0, 0, head: 16, tail: 4);
        ok.Fifos.Tx.Write([0]);
        Assert.Equal([(ushort)0], ok.Fifos.Tx.Read(1));
        Assert.Equal(0u, ok.Table.Get(0).ReturnFlags);
        Part(ok, 1, 60, 0, 0, head: 15, tail: 4);
        ok.Fifos.Tx.Write([1]);
        await ok.Closes();
        using NetDeviceFixture f2 = WithHeadTail(16, 4);
        Client p = f2.P();
        Part(p, 0, 30, 1, 1, head: 16, tail: 4); // the first part's tail does not count (D-7)
        Part(p, 1, 30, 0, 0, tail: 3);
        p.Fifos.Tx.Write([0]);
        await p.Closes();
    }

    [Fact]
    public async Task ND_35_ranges_outside_the_data_region_and_descriptors_the_device_holds_close_the_session()
    {
        Client p = _f.P();
        p.Table.Set(0, new BufferDescriptor { FrameType = 1, PortId = 13, Offset = 131000, DataLength = 100 });
        p.Fifos.Tx.Write([0]);
        await p.Closes();

        using var f2 = new NetDeviceFixture();
        Client q = f2.P();
        q.Table.Set(0, new BufferDescriptor { Offset = 131072, DataLength = 2048 });
        q.Fifos.Rx.Write([0]);
        await q.Closes();

        using var f3 = new NetDeviceFixture();
        Client r = f3.P();
        r.Post(2);
        r.Fifos.Rx.Write([2]);
        await r.Closes();

        using var f4 = new NetDeviceFixture();
        Client t = f4.P();
        t.Post(5);
        Part(t, 4, 30, 1, 5);
        t.Fifos.Tx.Write([4]);
        await t.Closes();
    }

    [Fact]
    public async Task ND_36_entries_before_a_bad_one_complete_before_the_epitaph_and_later_ones_never_go()
    {
        Client p = _f.P();
        foreach (ushort i in new ushort[] { 0, 1, 2 })
        {
            Frame(60).CopyTo(p.Bytes(i * 2048, 60));
            Part(p, i, 60, 0, 0);
        }
        p.Fifos.Tx.Write([0, 1, 64, 2]);
        await p.Closes();
        Assert.Equal([(ushort)0, 1], p.Fifos.Tx.Read(8));
        Assert.Equal(2, _f.Emu.SentFrames().Length);
    }

    [Fact]
    public async Task ND_37_rx_entries_are_checked_only_when_the_device_takes_them()
    {
        Client s = _f.Open(SessionFlags.PRIMARY);
        s.Fifos.Rx.Write([64]);
        await s.StaysOpen();
        s.Session.Attach(13, [FrameType.ETHERNET]);
        await s.Closes();
    }

    [Fact]
    public void ND_38_completion_writes_only_return_flags_and_the_device_gets_exactly_min_head()
    {
        Client p = _f.P();
        p.Table.Set(7, new BufferDescriptor { FrameType = 1, PortId = 13, Offset = 7 * 2048, DataLength = 60, ReturnFlags = 0xFFFFFFFF, InboundFlags = 1 });
        Frame(60).CopyTo(p.Bytes(7 * 2048, 60));
        BufferDescriptor before = p.Table.Get(7);
        p.Fifos.Tx.Write([7]);
        Assert.Equal([(ushort)7], p.Fifos.Tx.Read(8));
        BufferDescriptor after = p.Table.Get(7);
        Assert.Equal(0u, after.ReturnFlags);
        before.ReturnFlags = 0;
        Assert.Equal(before.ToString(), after.ToString());

        using NetDeviceFixture f = WithHeadTail(16, 0);
        Client q = f.P();
        f.Emu.HoldTx(true);
        Frame(60).CopyTo(q.Bytes(32, 60));
        Part(q, 0, 60, 0, 0, head: 32);
        q.Fifos.Tx.Write([0]);
        TxBufferInfo held = Assert.Single(f.Emu.PendingTx());
        Assert.Equal(16, held.HeadLength);
        f.Emu.CompleteTx(held.Id, "ZX_OK");
        Assert.Equal(Frame(60), Assert.Single(f.Emu.SentFrames()).Bytes);
    }

    [Fact]
    public async Task ND_39_a_port_not_attached_returns_NOT_AVAILABLE_and_an_invalid_port_closes()
    {
        Client p = _f.P();
        p.Send(0, Frame(60), port: 31);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0x80000004u, p.Table.Get(0).ReturnFlags);
        await p.StaysOpen();
        p.Send(1, Frame(60), port: 32);
        await p.Closes();
    }

    [Fact]
    public void ND_40_an_offline_port_returns_NOT_AVAILABLE_and_sends_nothing()
    {
        Client p = _f.P();
        _f.Emu.SetStatus(13, false, 1514);
        p.Send(0, Frame(60));
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0x80000004u, p.Table.Get(0).ReturnFlags);
        Assert.Empty(_f.Emu.SentFrames());
        _f.Emu.SetStatus(13, true, 1514);
        p.Send(1, Frame(60));
        Assert.Equal([(ushort)1], p.Fifos.Tx.Read(8));
        Assert.Equal(0u, p.Table.Get(1).ReturnFlags);
        Assert.Single(_f.Emu.SentFrames());
    }

    [Fact]
    public async Task ND_41_a_frame_type_the_port_does_not_send_returns_NOT_SUPPORTED_and_keeps_the_session()
    {
        Client p = _f.P();
        p.Send(0, Frame(60), type: FrameType.IPV4);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0x80000001u, p.Table.Get(0).ReturnFlags);
        Assert.Empty(_f.Emu.SentFrames());
        await p.StaysOpen();
    }

    [Fact]
    public void ND_42_the_nics_status_becomes_the_return_flags()
    {
        Client p = _f.P();
        p.Send(0, Frame(60), flags: (uint)TxFlags.TX_ACCEL_1);
        p.Send(1, Frame(60), flags: (uint)TxFlags.TX_ACCEL_0);
        Assert.Equal([(ushort)0, 1], p.Fifos.Tx.Read(8));
        Assert.Equal((0x80000001u, 0u), (p.Table.Get(0).ReturnFlags, p.Table.Get(1).ReturnFlags));
        _f.Emu.HoldTx(true);
        p.Send(2, Frame(60));
        _f.Emu.CompleteTx(Assert.Single(_f.Emu.PendingTx()).Id, "ZX_ERR_NO_RESOURCES");
        p.Send(3, Frame(60));
        _f.Emu.CompleteTx(Assert.Single(_f.Emu.PendingTx()).Id, "ZX_ERR_INTERNAL");
        Assert.Equal([(ushort)2, 3], p.Fifos.Tx.Read(8));
        Assert.Equal((0x80000002u, 0x80000000u), (p.Table.Get(2).ReturnFlags, p.Table.Get(3).ReturnFlags));
    }

    [Fact]
    public void ND_43_an_unknown_info_type_is_treated_as_no_info()
    {
        Client p = _f.P();
        Frame(60).CopyTo(p.Bytes(0, 60));
        p.Table.Set(0, new BufferDescriptor { FrameType = 1, PortId = 13, DataLength = 60, InfoType = 7 });
        p.Fifos.Tx.Write([0]);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0u, p.Table.Get(0).ReturnFlags);
    }

    [Fact]
    public async Task ND_44_without_a_primary_session_the_nic_is_stopped_and_tx_waits()
    {
        Client n = _f.Open(0);
        n.Session.Attach(13, [FrameType.ETHERNET]);
        n.Send(0, Frame(60));
        Assert.False(await n.Fifos.Tx.WaitReadableAsync(50));
        Assert.Empty(_f.Emu.SentFrames());
        _f.P();
        Assert.True(await n.Fifos.Tx.WaitReadableAsync(1000));
        Assert.Equal([(ushort)0], n.Fifos.Tx.Read(8));
        Assert.Equal(0u, n.Table.Get(0).ReturnFlags);
    }

    [Fact]
    public void ND_45_fifo_depth_and_hw_depth_bound_what_is_queued_and_held()
    {
        Client s = _f.Open(SessionFlags.PRIMARY, 64);
        ushort[] many = Enumerable.Range(0, 33).Select(i => (ushort)i).ToArray();
        Assert.Equal(32, s.Fifos.Tx.Write(many));
        Assert.Equal(0, s.Fifos.Tx.Write([40]));
        Assert.Equal(32, s.Fifos.Rx.Write(many));
        Assert.Equal(0, s.Fifos.Rx.Write([40]));
        Assert.Empty(s.Fifos.Rx.Read(8));

        using var f = new NetDeviceFixture();
        Client p = f.P();
        f.Emu.HoldTx(true);
        for (ushort i = 0; i < 20; i++)
        {
            Frame(60).CopyTo(p.Bytes(i * 2048, 60));
            p.Table.Set(i, new BufferDescriptor { FrameType = 1, PortId = 13, Offset = (ulong)(i * 2048), DataLength = 60 });
        }
        Assert.Equal(20, p.Fifos.Tx.Write(Enumerable.Range(0, 20).Select(i => (ushort)i).ToArray()));
        Assert.Equal(16, f.Emu.PendingTx().Length);
        f.Emu.CompleteTx(f.Emu.PendingTx()[0].Id, "ZX_OK");
        Assert.Equal(16, f.Emu.PendingTx().Length);
        while (f.Emu.PendingTx() is { Length: > 0 } held) f.Emu.CompleteTx(held[0].Id, "ZX_OK");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (ushort)i), p.Fifos.Tx.Read(64).Order());
    }

    [Fact]
    public void ND_46_each_session_gets_back_only_its_own_tx_indices()
    {
        Client a = _f.P(), b = _f.P();
        _f.Emu.HoldTx(true);
        a.Send(0, Frame(60)[..60]);
        b.Send(1, Frame(60));
        TxBufferInfo[] held = _f.Emu.PendingTx();
        Assert.Equal(2, held.Length);
        _f.Emu.CompleteTx(held.Single(h => (h.Id & 0xFFFF) == 0).Id, "ZX_OK");
        _f.Emu.CompleteTx(held.Single(h => (h.Id & 0xFFFF) == 1).Id, "ZX_ERR_UNAVAILABLE");
        Assert.Equal([(ushort)0], a.Fifos.Tx.Read(8));
        Assert.Equal([(ushort)1], b.Fifos.Tx.Read(8));
        Assert.Equal((0u, 0x80000004u), (a.Table.Get(0).ReturnFlags, b.Table.Get(1).ReturnFlags));
    }
}
