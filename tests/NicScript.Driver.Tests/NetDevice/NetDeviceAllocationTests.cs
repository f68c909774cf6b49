using NicScript.Driver.Memory;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Pci;
using static NicScript.Driver.Tests.NetDevice.NetDeviceFixture;

namespace NicScript.Driver.Tests.NetDevice;

/// <summary>The data path allocates nothing per frame: FIFOs, descriptor checks, the virtio uplink and delivery all reuse their buffers.</summary>
public sealed class NetDeviceAllocationTests
{
    [Fact]
    public void A_primary_session_on_virtio_loopback_allocates_nothing_per_frame()
    {
        using Machine m = DefaultMachine.Create();
        Device dev = m.NetDevices.Get(new PciAddress(0, 0, 0x1f, 0));
        DmaOwner owner = m.Dma.CreateOwner("client", 1L << 28);
        Assert.Equal(DmaError.None, m.Dma.TryAllocate(owner, 256 * 40, out DmaRegion descs));
        Assert.Equal(DmaError.None, m.Dma.TryAllocate(owner, 256 * 2048, out DmaRegion data));
        var (session, fifos) = dev.OpenSession("a", Info(descs, data, 256, 5, SessionFlags.PRIMARY));
        session.Attach(0, [FrameType.ETHERNET]);
        var table = new DescriptorTable(descs, 5);
        byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        for (int i = 0; i < 32; i++)
        {
            table.Set(i, new BufferDescriptor { FrameType = 1, Offset = (ulong)(i * 2048), DataLength = 64 });
            mac.CopyTo(data.DeviceSpanForTests()[(i * 2048)..]);
        }
        ushort[] tx = Enumerable.Range(0, 32).Select(i => (ushort)i).ToArray(), back = new ushort[256], rx = new ushort[256];
        for (int i = 0; i < 128; i++)
        {
            rx[i] = (ushort)(32 + i);
            table.Set(32 + i, new BufferDescriptor { Offset = (ulong)((32 + i) * 2048), DataLength = 2048 });
        }
        fifos.Rx.Write(rx.AsSpan(0, 128));
        long received = 0, completed = 0;
        void Round()
        {
            fifos.Tx.Write(tx);
            completed += fifos.Tx.Read(back); // (no Assert in the loop: xunit's comparers allocate)
            int n = fifos.Rx.Read(rx);
            for (int k = 0; k < n; k++) // reset what came back before posting it again, as a client must
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(table.Slot(rx[k])[BufferDescriptor.DataLengthAt..], 2048);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(table.Slot(rx[k])[BufferDescriptor.TailLengthAt..], 0);
            }
            fifos.Rx.Write(rx.AsSpan(0, n));
            received += n;
        }
        for (int i = 0; i < 200; i++) Round();
        received = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(32_000, received);
        Assert.Equal(32_000 + 200 * 32, completed);
        Assert.True(allocated < 4096, $"{allocated} bytes allocated for {received} frames");
    }
}
