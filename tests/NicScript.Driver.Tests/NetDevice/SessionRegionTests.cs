using NicScript.Driver.Memory;
using NicScript.Driver.NetDevice;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Issue 17 B for the netdevice layer: the device reaches only the session's own data region, while its client owns
/// it. A descriptor whose range leaves the region (past its end, or wrapping 2^64 back into it) closes the session with
/// ZX_ERR_IO_INVALID and nothing is read or written; a region freed or given away stops the device at once.</summary>
public sealed class SessionRegionTests : IDisposable
{
    private const int DataBytes = 64 * 2048; // NetDeviceFixture.Open: 64 slots of 2048
    private readonly NetDeviceFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static void Tx(Client c, ushort index, ulong offset, uint data, ushort head = 0, ushort tail = 0)
    {
        c.Table.Set(index, new BufferDescriptor
        {
            FrameType = (byte)FrameType.ETHERNET, PortId = Port13, Offset = offset, HeadLength = head, DataLength = data, TailLength = tail,
        });
        c.Fifos.Tx.Write([index]);
    }

    private static void Rx(Client c, ushort index, ulong offset, uint data, ushort head = 0, ushort tail = 0)
    {
        c.Table.Set(index, new BufferDescriptor { Offset = offset, HeadLength = head, DataLength = data, TailLength = tail });
        c.Fifos.Rx.Write([index]);
    }

    private static bool All(Client c, byte value) => c.Bytes(0, DataBytes).IndexOfAnyExcept(value) < 0;

    [Theory]
    [InlineData(ulong.MaxValue - 9, 60u, (ushort)0, (ushort)0)]                // offset + 60 wraps to 50
    [InlineData(0xFFFF_FFFF_0000_0000UL, 0xFFFF_FFFFu, (ushort)0, (ushort)1)] // the sum wraps to 0; the offset truncates to 0 as an int
    [InlineData(0UL, 0xFFFF_FFFFu, (ushort)0xFFFF, (ushort)0xFFFF)]            // lengths alone far past the region
    [InlineData((ulong)DataBytes - 59, 60u, (ushort)0, (ushort)0)]             // one byte past the end
    [InlineData((ulong)DataBytes - 60, 60u, (ushort)0, (ushort)1)]             // the tail one byte past the end
    [InlineData((ulong)DataBytes, 60u, (ushort)0, (ushort)0)]                  // starts at the end
    public async Task A_tx_buffer_outside_the_data_region_closes_the_session_and_sends_nothing(ulong offset, uint data, ushort head, ushort tail)
    {
        Client p = _f.P();
        Tx(p, 0, offset, data, head, tail);
        await p.Closes();
        Assert.Empty(_f.Emu.SentFrames());
    }

    [Fact]
    public void A_tx_buffer_ending_exactly_at_the_end_of_the_region_is_sent()
    {
        Client p = _f.P();
        Frame(60).CopyTo(p.Bytes(DataBytes - 60, 60));
        Tx(p, 0, DataBytes - 60, 60);
        Assert.Equal([(ushort)0], p.Fifos.Tx.Read(8));
        Assert.Equal(0u, p.Table.Get(0).ReturnFlags);
        Assert.Equal(Frame(60), Assert.Single(_f.Emu.SentFrames()).Bytes);
    }

    [Theory]
    [InlineData(0xFFFF_FFFE_FFFF_FFF0UL + 0x100, 0xFFFF_FFF0u, (ushort)0, (ushort)0x20)] // wraps to 0x100; room wraps to 16 as a uint
    [InlineData(ulong.MaxValue - 99, 2048u, (ushort)0, (ushort)0)]
    [InlineData((ulong)DataBytes - 2047, 2048u, (ushort)0, (ushort)0)]
    [InlineData((ulong)DataBytes - 2048, 2048u, (ushort)1, (ushort)0)]
    public async Task Rx_space_outside_the_data_region_closes_the_session_and_nothing_is_written(ulong offset, uint data, ushort head, ushort tail)
    {
        Client p = _f.P();
        p.Bytes(0, DataBytes).Fill(0x5E);
        Rx(p, 0, offset, data, head, tail);
        await p.Closes();
        Assert.Empty(_f.Emu.HeldRx());
        Assert.False(_f.Emu.InjectRx(Port13, Frame(16)));
        Assert.False(_f.Emu.InjectRx(Port13, Frame(60)));
        Assert.True(All(p, 0x5E));
    }

    [Fact]
    public void Rx_space_ending_exactly_at_the_end_of_the_region_is_filled()
    {
        Client p = _f.P();
        Rx(p, 0, DataBytes - 2048, 2048);
        Assert.True(_f.Emu.InjectRx(Port13, Frame(60)));
        Assert.Equal([(ushort)0], p.Fifos.Rx.Read(8));
        Assert.Equal(Frame(60), p.ReadChain(0));
    }

    [Fact]
    public async Task A_tx_whose_data_region_was_given_away_before_the_fifo_entry_closes_and_reads_nothing()
    {
        Client p = _f.P();
        DmaOwner victim = _f.Memory.CreateOwner("victim", 1L << 30);
        Frame(60).CopyTo(p.Bytes(0, 60));
        p.Table.Set(0, new BufferDescriptor { FrameType = (byte)FrameType.ETHERNET, PortId = Port13, DataLength = 60 });
        Assert.Equal(DmaError.None, p.Data.Transfer(_f.Owner, victim));
        p.Bytes(0, DataBytes).Fill(0x5E); // the victim's secret now
        p.Fifos.Tx.Write([0]);
        await p.Closes();
        Assert.Empty(_f.Emu.SentFrames());
        Assert.True(All(p, 0x5E));
    }

    [Fact]
    public void A_held_tx_whose_data_region_left_the_client_completes_with_an_error_and_is_not_sent()
    {
        Client p = _f.P();
        DmaOwner victim = _f.Memory.CreateOwner("victim", 1L << 30);
        _f.Emu.HoldTx(true);
        p.Send(0, Frame(60));
        uint id = Assert.Single(_f.Emu.PendingTx()).Id;
        Assert.Equal(DmaError.None, p.Data.Transfer(_f.Owner, victim));
        p.Bytes(0, DataBytes).Fill(0x5E);
        _f.Emu.CompleteTx(id, "ZX_OK");
        Assert.Empty(_f.Emu.SentFrames());
        Assert.True(All(p, 0x5E));
    }

    [Fact]
    public void A_frame_for_rx_space_whose_region_was_given_away_is_dropped_and_writes_nothing()
    {
        Client p = _f.P();
        p.Post(0, 1, 2);
        Assert.Equal(3, _f.Emu.HeldRx().Length);
        DmaOwner victim = _f.Memory.CreateOwner("victim", 1L << 30);
        Assert.Equal(DmaError.None, p.Data.Transfer(_f.Owner, victim));
        p.Bytes(0, DataBytes).Fill(0x5E);
        Assert.False(_f.Emu.InjectRx(Port13, Frame(60)));
        Assert.True(All(p, 0x5E));
        Assert.Empty(p.Fifos.Rx.Read(8));
    }
}
