using System.Buffers.Binary;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>The emulated MANA VF on the default machine, driven by the native driver: bring-up, traffic, every refusal, hot removal.</summary>
public sealed class ManaDeviceTests : IDisposable
{
    private readonly RecordingEvents _events = new();
    private readonly Machine _machine;
    private readonly DmaOwner _owner;
    private readonly ManaDevice _vf;
    private readonly ManaDriver _driver;

    public ManaDeviceTests()
    {
        _machine = DefaultMachine.Create(_events);
        _owner = _machine.Dma.CreateOwner("test", 64 << 20);
        _vf = _machine.Devices.OfType<ManaDevice>().Single();
        _driver = new ManaDriver(_vf.Function, _machine.Dma, _owner);
    }

    public void Dispose()
    {
        _driver.Dispose();
        _machine.Dispose();
    }

    [Fact]
    public void DefaultMachine_HasVfAt1e1_WithBar0RegistersTheLinuxDriverAccepts()
    {
        Assert.True(_machine.Pci.TryGet(DefaultMachine.ManaVf, out PciFunction f));
        Assert.Equal((0x1414, 0x00BA), (f.VendorId, f.DeviceId));
        Assert.True(_machine.Pci.TryGet(DefaultMachine.ManaPf, out PciFunction pf));
        Assert.Equal(0x00B9, pf.DeviceId);
        f.Config.Write(ConfigSpace.Command, 2, 0x0006);
        ulong db = f.ReadBar(0, ManaRegisters.DoorbellPageOffsetRegister, 8), shm = f.ReadBar(0, ManaRegisters.ShmOffsetRegister, 8);
        uint pageSize = (uint)f.ReadBar(0, ManaRegisters.DoorbellPageSizeRegister, 4) & 0xFFFF;
        Assert.True(pageSize >= 4096);
        Assert.True(db + pageSize <= f.Bar(0)!.Size);
        Assert.True(shm % 4 == 0 && shm + 32 <= f.Bar(0)!.Size);
        Assert.NotEmpty(f.FindCapabilities(0x11)); // MSI-X
    }

    [Fact]
    public void BringUp_Then1000Frames_SqToWireToRq_EveryByteChecked()
    {
        _driver.BringUp();
        Assert.True(_vf.HwcUp && _vf.Registered);
        ManaQueuePair q = _driver.Queues!;
        int sent = 0, received = 0, events = 0;
        var expected = new Queue<(int Seq, int Length)>();
        while (received < 1000)
        {
            int burst = 0;
            while (sent < 1000 && burst < 32 && q.TxRoom > 0)
            {
                int length = 60 + sent % 1400;
                Fill(q.NextTxBuffer()[..length], sent, _driver.Mac);
                Assert.True(q.Post(length));
                expected.Enqueue((sent, length));
                sent++;
                burst++;
            }
            q.Flush();
            events += q.ProcessEvents();
            q.PollTx();
            q.PollRx(frame =>
            {
                var (seq, length) = expected.Dequeue();
                Assert.Equal(length, frame.Length);
                Assert.True(Check(frame, seq), $"frame {seq} corrupted");
                received++;
            });
        }
        Assert.Equal(1000, _vf.Stats.TxFramesCount);
        Assert.Equal(1000, _vf.Stats.RxFramesCount);
        Assert.Equal(0, q.TxErrors + q.RxErrors);
        Assert.True(events > 0, "completion events were posted on the EQ");
    }

    [Fact]
    public void MalformedWqes_CompleteWithErrorCqes_NotExceptions()
    {
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        var wqe = new byte[32];
        // 1. reserved bits in the WQE header; 2. an inline OOB size that is neither 8 nor 24; 3. a wrong memory key;
        // 4. an OOB naming another CQ; 5. a buffer outside DMA memory.
        byte[][] bad = [Wqe(q, w => w[0] = 1), Wqe(q, w => w[5] = 3 << 0), Wqe(q, w => BinaryPrimitives.WriteUInt32LittleEndian(w.AsSpan(24), 0xBAD)),
            Wqe(q, w => BinaryPrimitives.WriteUInt32LittleEndian(w.AsSpan(8), (q.SqCqId + 7) << 8)), Wqe(q, w => BinaryPrimitives.WriteUInt64LittleEndian(w.AsSpan(16), 0x10))];
        foreach (byte[] b in bad)
        {
            Assert.True(q.PostRaw(b));
            q.Flush();
            Assert.Equal(1, q.PollTx());
        }
        Assert.Equal(bad.Length, q.TxErrors);
        Assert.Equal(bad.Length, _vf.Stats.TxErrorsCount);
        Assert.Equal(0, _vf.Stats.TxFramesCount);
        Assert.Contains(_events.Faults, f => f.Reason == "tx-error-cqe");
        // The SQ still works afterwards.
        Fill(q.NextTxBuffer()[..64], 1, _driver.Mac);
        q.Post(64);
        q.Flush();
        Assert.Equal(1, q.PollTx());
        Assert.Equal(bad.Length, q.TxErrors);
    }

    [Fact]
    public void UnknownRequestType_GetsStatusCmdUnsupported_AndTheChannelGoesOn()
    {
        _driver.BringUp();
        var req = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), 0x999);
        BinaryPrimitives.WriteUInt16LittleEndian(req.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(12), 40);
        var e = Assert.Throws<ManaRequestException>(() => _driver.Request(req, 32));
        Assert.Equal(ManaRegisters.StatusCmdUnsupported, e.Status);

        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(4), (uint)GdmaRequestType.QueryMaxResources);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(20), (uint)GdmaRequestType.QueryMaxResources);
        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(12), 400); // msg_size beyond the message
        Assert.Equal(ManaRegisters.StatusLengthMismatch, Assert.Throws<ManaRequestException>(() => _driver.Request(req, 32)).Status);

        BinaryPrimitives.WriteUInt32LittleEndian(req.AsSpan(12), 40);
        Assert.Equal(72, _driver.Request(req, 72).Length); // still answering
        Assert.Equal(2, _vf.Stats.HwcErrorsCount);
    }

    [Fact]
    public void DestroyingARegionInUse_IsRefused_WithStatusInUse()
    {
        _driver.BringUp();
        var req = new byte[48];
        var w = new GdmaDestroyDmaRegionReqWriter(req);
        w.HdrReqMsgType = w.HdrRespMsgType = (uint)GdmaRequestType.DestroyDmaRegion;
        w.HdrReqMsgVersion = w.HdrRespMsgVersion = 1;
        w.HdrReqMsgSize = 48;
        w.HdrRespMsgSize = 32;
        w.HdrDevIdType = GdmaDeviceType.Mana;
        w.DmaRegionHandle = 2; // the EQ's region
        Assert.Equal(ManaRegisters.StatusInUse, Assert.Throws<ManaRequestException>(() => _driver.Request(req, 32)).Status);
        w.DmaRegionHandle = 0x9999;
        Assert.Equal(ManaRegisters.StatusNotFound, Assert.Throws<ManaRequestException>(() => _driver.Request(req, 32)).Status);
    }

    [Fact]
    public void DoorbellForUnknownQueue_IsDroppedAndCounted()
    {
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        long before = _vf.Stats.UnknownDoorbellsCount;
        _vf.Function.WriteBar(0, ManaRegisters.DoorbellPagesOffset + (int)_driver.DbId * 4096, 8, 32UL << 32 | 4000); // SQ 4000
        _vf.Function.WriteBar(0, ManaRegisters.DoorbellPagesOffset + 7 * 4096, 8, 32UL << 32 | q.SqId); // right SQ, wrong page
        Assert.Equal(before + 2, _vf.Stats.UnknownDoorbellsCount);
        _vf.Function.WriteBar(0, ManaRegisters.DoorbellPagesOffset + (int)_driver.DbId * 4096, 8, 1UL << 24 | q.SqId); // reserved bits
        Assert.Equal(1, _vf.Stats.BadDoorbellsCount);
        Assert.Equal(0, _vf.Stats.TxFramesCount);
    }

    [Fact]
    public void HotRemove_MidTraffic_StopsQueues_AndLeaksNoDmaBuffer()
    {
        long baseline = _machine.Dma.AllocatedBytes;
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        for (int i = 0; i < 16; i++)
        {
            Fill(q.NextTxBuffer()[..128], i, _driver.Mac);
            q.Post(128);
        }
        q.Flush();
        Assert.True(_machine.Pci.TryGet(DefaultMachine.ManaPf, out PciFunction pf));
        pf.Config.Write(SriovCapability.Control, 2, 0); // VF Enable off: the VF leaves the bus
        Assert.True(_vf.Function.Removed);
        Assert.Empty(_vf.Queues);
        Assert.Equal(0, _vf.DmaRegionCount);
        long tx = _vf.Stats.TxFramesCount;
        for (int i = 0; i < 16; i++) q.Post(128); // the driver goes on: its doorbells vanish, nothing throws
        q.Flush();
        Assert.Equal(tx, _vf.Stats.TxFramesCount);
        Assert.Equal(ulong.MaxValue, _vf.Function.ReadBar(0, ManaRegisters.ShmOffsetRegister, 8));
        _driver.Dispose();
        Assert.Equal(baseline, _machine.Dma.AllocatedBytes);
        Assert.Contains(_events.Faults, f => f.Reason == "hot-removed");

        // Re-enabled, the VF is back fresh from reset and comes up again.
        pf.Config.Write(SriovCapability.Control, 2, 9);
        Assert.False(_vf.Function.Removed);
        using var again = new ManaDriver(_vf.Function, _machine.Dma, _owner);
        again.BringUp();
        Assert.True(_vf.Registered);
    }

    private static byte[] Wqe(ManaQueuePair q, Action<byte[]> spoil)
    {
        var w = new byte[32];
        var h = new GdmaWqeWriter(w);
        h.NumSge = 1;
        h.InlineOobSizeDiv4 = 2;
        var oob = new ManaTxShortOobWriter(w.AsSpan(8));
        oob.VcqNum = q.SqCqId;
        var sge = new GdmaSgeWriter(w.AsSpan(16));
        sge.Address = 0x1_0000_0000; // each case below fails before (or at) the buffer check
        sge.MemKey = ManaRegisters.GpaMkey;
        sge.Size = 64;
        spoil(w);
        return w;
    }

    private static void Fill(Span<byte> frame, int seq, byte[] mac)
    {
        mac.CopyTo(frame);
        mac.CopyTo(frame[6..]);
        frame[12] = 0x88;
        frame[13] = 0xB5;
        for (int i = 14; i < frame.Length; i++) frame[i] = (byte)(seq * 7 + i);
    }

    private static bool Check(ReadOnlySpan<byte> frame, int seq)
    {
        for (int i = 14; i < frame.Length; i++)
            if (frame[i] != (byte)(seq * 7 + i)) return false;
        return true;
    }

    private sealed class RecordingEvents : IDeviceEvents
    {
        public List<DeviceFault> Faults { get; } = new();

        public void Fault(DeviceFault fault)
        {
            lock (Faults) Faults.Add(fault);
        }
    }
}
