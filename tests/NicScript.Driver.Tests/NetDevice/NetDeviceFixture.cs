using System.Collections.Immutable;
using NicScript.Driver.Memory;
using NicScript.Driver.NetDevice;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>Fixture F of reference/netdevice.md §6: a NIC with hw depths 16, one port 13, no wire.</summary>
public sealed class NetDeviceFixture : IDisposable
{
    public const byte Port13 = 13;
    public static readonly byte[] Mac13 = [0x02, 0, 0, 0, 0, 0x0d];
    private int _sessions;

    public NetDeviceFixture(NicConfig? config = null, params PortConfig[] extraPorts)
    {
        Memory = new DmaMemory();
        Owner = Memory.CreateOwner("test", 1L << 30);
        NicConfig c = config ?? Config();
        if (extraPorts.Length > 0) c = c with { Ports = c.Ports.AddRange(extraPorts) };
        Dev = new Device("00:1f.0", c);
    }

    public static NicConfig Config() => new()
    {
        RxDepth = 16,
        TxDepth = 16,
        RxThreshold = 8,
        MaxBufferParts = 4,
        BufferAlignment = 64,
        MaxBufferLength = 2048,
        MinRxBufferLength = 64,
        MinTxBufferLength = 60,
        Ports = [Port(13)],
    };

    public static PortConfig Port(byte id, byte[]? mac = null, ImmutableArray<MacFilterMode>? modes = null, bool noMac = false) => new()
    {
        Id = id,
        Class = DeviceClass.ETHERNET,
        RxTypes = [FrameType.ETHERNET],
        TxTypes = [new FrameTypeSupport(FrameType.ETHERNET, 1, (uint)TxFlags.TX_ACCEL_0)],
        Mac = noMac ? null : mac ?? (id == 13 ? Mac13 : [0x02, 0, 0, 0, 0, id]),
        MacModes = modes ?? [MacFilterMode.MULTICAST_FILTER, MacFilterMode.MULTICAST_PROMISCUOUS, MacFilterMode.PROMISCUOUS],
        MulticastFilterCount = 4,
        Online = true,
        Mtu = 1514,
    };

    public DmaMemory Memory { get; }
    public DmaOwner Owner { get; }
    public Device Dev { get; }
    public NicEmulator Emu => Dev.Nic;

    public DmaRegion Alloc(int bytes)
    {
        Assert.Equal(DmaError.None, Memory.TryAllocate(Owner, bytes, out DmaRegion r));
        return r;
    }

    /// <summary><c>open(flags, count, lengthWords)</c> of §6: descriptor i at offset i×2048, data 2048, ETHERNET, port 13.</summary>
    public Client Open(SessionFlags flags, int count = 64, int words = 5, string? name = null)
    {
        DmaRegion descs = Alloc(count * words * 8), data = Alloc(count * 2048);
        OpenSessionResult r = Dev.OpenSession(name ?? $"s{_sessions++}", Info(descs, data, count, words, flags));
        var client = new Client(r.Session, r.Fifos, new DescriptorTable(descs, words), data, descs);
        for (int i = 0; i < count; i++)
            client.Table.Set(i, new BufferDescriptor { Offset = (ulong)(i * 2048), DataLength = 2048, FrameType = (byte)FrameType.ETHERNET, PortId = Port13 });
        return client;
    }

    public static SessionInfo Info(DmaRegion descs, DmaRegion data, int count, int words, SessionFlags? flags) => new()
    {
        Descriptors = descs,
        Data = data,
        DescriptorVersion = 1,
        DescriptorLength = (byte)words,
        DescriptorCount = (ushort)count,
        Options = flags,
    };

    /// <summary>P: open(PRIMARY) attached to 13 with [ETHERNET].</summary>
    public Client P(int count = 64)
    {
        Client p = Open(SessionFlags.PRIMARY, count);
        p.Session.Attach(Port13, [FrameType.ETHERNET]);
        return p;
    }

    public static byte[] Bytes(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();

    /// <summary>A frame of <paramref name="length"/> bytes: to 02:00:00:00:00:0d, bytes after the header count up.</summary>
    public static byte[] Frame(int length, byte[]? destination = null)
    {
        var f = new byte[length];
        (destination ?? Mac13).CopyTo(f, 0);
        for (int i = 6; i < length; i++) f[i] = (byte)i;
        return f;
    }

    public void Dispose() => Memory.Dispose();

    public sealed record Client(Session Session, Fifos Fifos, DescriptorTable Table, DmaRegion Data, DmaRegion Descs)
    {
        public Span<byte> Bytes(long offset, int length) => Data.DeviceSpanForTests().Slice((int)offset, length);

        /// <summary>Writes <paramref name="payload"/> into descriptor <paramref name="index"/>'s buffer and sends it as one frame.</summary>
        public int Send(ushort index, byte[] payload, byte port = Port13, FrameType type = FrameType.ETHERNET, uint flags = 0, ushort head = 0)
        {
            payload.CopyTo(Bytes(index * 2048 + head, payload.Length));
            Table.Set(index, new BufferDescriptor
            {
                FrameType = (byte)type, PortId = port, Offset = (ulong)(index * 2048), HeadLength = head, DataLength = (uint)payload.Length,
                InboundFlags = flags, ReturnFlags = Table.Get(index).ReturnFlags,
            });
            return Fifos.Tx.Write([index]);
        }

        /// <summary>Posts descriptors as rx space (offset i×2048, data <paramref name="dataLength"/>).</summary>
        public int PostSized(uint dataLength, params ushort[] indices)
        {
            foreach (ushort i in indices)
                Table.Set(i, new BufferDescriptor { Offset = (ulong)(i * 2048), DataLength = dataLength }); // the device writes type and port
            return Fifos.Rx.Write(indices);
        }

        public int Post(params ushort[] indices) => PostSized(2048, indices);

        /// <summary>The bytes of the received chain starting at <paramref name="first"/>, in chain order.</summary>
        public byte[] ReadChain(ushort first)
        {
            var all = new List<byte>();
            BufferDescriptor d = Table.Get(first);
            while (true)
            {
                all.AddRange(Bytes((long)d.Offset + d.HeadLength, (int)d.DataLength).ToArray());
                if (d.ChainLength == 0) break;
                d = Table.Get(d.Nxt);
            }
            return [.. all];
        }

        public async Task Closes(string reason = "ZX_ERR_IO_INVALID")
        {
            Assert.Equal("ZX_ERR_CANCELED", await Session.WaitClosedAsync(1000));
            Assert.Equal(reason, Session.CloseReason);
        }

        public async Task StaysOpen()
        {
            ZxException e = await Assert.ThrowsAsync<ZxException>(() => Session.WaitClosedAsync(50));
            Assert.Equal(ZxStatus.ZX_ERR_TIMED_OUT, e.Status);
        }
    }
}
