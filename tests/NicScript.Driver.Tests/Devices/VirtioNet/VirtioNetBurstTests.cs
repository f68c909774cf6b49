using System.Buffers.Binary;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.VirtioNet;

/// <summary>A TX burst crosses the wire as one batch: what the far end receives, what a capture sees and what fault
/// injection does are the same as frame by frame.</summary>
public sealed class VirtioNetBurstTests : IDisposable
{
    private readonly DmaMemory _memory = new();
    private readonly Link _cable = Links.Pair("cable");
    private readonly VirtioNetDriver _a, _b;

    public VirtioNetBurstTests()
    {
        _a = BringUp(0x10, 1);
        _b = BringUp(0x11, 2);
    }

    private VirtioNetDriver BringUp(byte slot, byte macTail)
    {
        var address = new PciAddress(0, 0, slot, 0);
        var device = new VirtioNetDevice(address, new IommuDomain(_memory, address.ToString()), new IrqLine(11), [0x52, 0x54, 0, 0, 0, macTail]);
        device.Connect(_cable);
        return VirtioNetDriver.BringUp(device.Function, _memory, _memory.CreateOwner("driver " + macTail, 16 << 20));
    }

    public void Dispose()
    {
        _cable.Dispose();
        _memory.Dispose();
    }

    /// <summary>Sends <paramref name="count"/> frames from A in one burst, frame i carrying i at byte 14.</summary>
    private void SendFromA(int count)
    {
        var burst = new FrameBurst(_a.Pool, count);
        Assert.True(burst.Fill());
        for (int i = 0; i < count; i++)
        {
            burst.SetLength(i, 60);
            Span<byte> f = burst.Buffer(i);
            f[..60].Clear();
            _b.Mac.CopyTo(f);
            _a.Mac.CopyTo(f[6..]);
            BinaryPrimitives.WriteInt32BigEndian(f[14..], i);
        }
        burst.Count = count;
        Assert.Equal(count, _a.Tx(burst));
    }

    private List<int> ReceivedAtB()
    {
        var got = new List<int>();
        var burst = new FrameBurst(_b.Pool, 64);
        while (_b.RxPoll(burst) is var n && n > 0)
            for (int i = 0; i < n; i++) got.Add(BinaryPrimitives.ReadInt32BigEndian(burst.Frame(i)[14..]));
        return got;
    }

    [Fact]
    public void ABurstLongerThanOneBatch_ArrivesWholeAndInOrder()
    {
        SendFromA(100); // more than FrameBatch.Capacity: two batches
        Assert.Equal(Enumerable.Range(0, 100), ReceivedAtB());
        Assert.Equal(100, _cable.Ports[0].TxFrames);
        Assert.Equal(100, _cable.Ports[1].RxFrames);
    }

    private sealed class Capture : ICaptureSink
    {
        public readonly List<int> Seen = new();
        public void Write(ReadOnlySpan<byte> frame) => Seen.Add(BinaryPrimitives.ReadInt32BigEndian(frame[14..]));
    }

    [Fact]
    public void ACapture_SeesEveryFrameOfABurst()
    {
        var capture = new Capture();
        _cable.Capture(capture);
        SendFromA(40);
        Assert.Equal(Enumerable.Range(0, 40), capture.Seen);
        Assert.Equal(Enumerable.Range(0, 40), ReceivedAtB());
    }

    [Fact]
    public void FaultInjection_AppliesToEachFrameOfABurst()
    {
        var faults = new FaultInjector(new FaultSettings(Drop: 0.5, Seed: 11));
        _cable.InjectFaults(faults);
        SendFromA(64);
        List<int> got = ReceivedAtB();
        Assert.InRange(faults.Dropped, 16, 48);
        Assert.Equal(64 - faults.Dropped, got.Count);
        Assert.Equal(got.Order(), got); // what is left keeps its order
    }

    [Fact]
    public void CarrierDown_DropsTheWholeBurstAndCountsEachFrame()
    {
        _cable.SetCarrier(false);
        SendFromA(32);
        Assert.Empty(ReceivedAtB());
        Assert.Equal(32, _cable.DroppedNoCarrier);
    }

    [Fact]
    public void TheFramePath_AllocatesNothingPerFrame()
    {
        var tx = new FrameBurst(_a.Pool);
        var rx = new FrameBurst(_b.Pool);
        Assert.True(tx.Fill());
        void Round()
        {
            tx.Fill();
            for (int i = 0; i < tx.Capacity; i++)
            {
                tx.SetLength(i, 60);
                _b.Mac.CopyTo(tx.Buffer(i));
            }
            tx.Count = tx.Capacity;
            _a.Tx(tx);
            _b.RxPoll(rx);
        }
        for (int i = 0; i < 8; i++) Round(); // every call made once before the count (type loading, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(_b.RxFrames >= 200 * tx.Capacity, $"only {_b.RxFrames} frames arrived");
    }
}
