using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>A netdevice over a virtio-net function: the native virtio driver's bursts carry the frames, its INTx line wakes the NIC.</summary>
/// <remarks>
/// The function is brought up on the first start (so a machine whose netdevice is never used keeps its function free for
/// a script's own driver). Frames are copied once each way: session buffer → virtio TX buffer, virtio RX buffer → session
/// buffer (the primary's, in place). The interrupt handler only records the signal and queues the pump.
/// </remarks>
internal sealed class VirtioUplink : INicUplink, IInterruptSink
{
    private readonly VirtioNetDevice _device;
    private readonly DmaMemory _memory;
    private readonly DmaOwner _owner;
    private VirtioNetDriver? _driver;
    private FrameBurst? _tx, _rx;
    private NicEmulator? _nic;
    private int _signalled;

    public VirtioUplink(VirtioNetDevice device, DmaMemory memory)
    {
        _device = device;
        _memory = memory;
        _owner = memory.CreateOwner($"netdevice {device.Function.Address}", 64L << 20);
    }

    public int BurstCapacity => FrameBurst.DefaultCapacity;

    /// <summary>The device's link bit, read at start and whenever the device signals a configuration change.</summary>
    public bool LinkUp { get; private set; } = true;

    public void Attach(NicEmulator nic) => _nic = nic;

    public void Start()
    {
        if (_driver is not null || _device.Function.Removed) return;
        _driver = VirtioNetDriver.BringUp(_device.Function, _memory, _owner, interrupts: false);
        _tx = new FrameBurst(_driver.Pool);
        _rx = new FrameBurst(_driver.Pool);
        _tx.Fill();
        LinkUp = _driver.LinkUp;
        _device.Intx.Connect(this);
        Volatile.Write(ref _signalled, 1);
    }

    public Span<byte> StageBuffer(int index) => _tx is null ? Span<byte>.Empty : _tx.Buffer(index);

    public void SetStagedLength(int index, int length) => _tx!.SetLength(index, length);

    public int Flush(int count)
    {
        if (_driver is null || _tx is null || _device.Function.Removed) return 0;
        _tx.Count = count;
        int sent = _driver.Tx(_tx);
        _tx.Count = 0;
        _tx.Fill();
        Volatile.Write(ref _signalled, 1); // a loopback wire answers at once: look at RX on the next round
        return sent;
    }

    public bool TakeSignal() => Interlocked.Exchange(ref _signalled, 0) != 0;

    public int Poll(NicEmulator nic)
    {
        if (_driver is null || _rx is null || _device.Function.Removed) return 0;
        if ((_driver.AckInterrupt() & 2) != 0) LinkUp = _driver.LinkUp; // ISR bit 1: the configuration (link status) changed
        int total = 0, n;
        do
        {
            n = _driver.RxPoll(_rx);
            for (int i = 0; i < n; i++) nic.UplinkReceive(_rx.Frame(i));
            total += n;
        }
        while (n == _rx.Capacity);
        _device.Intx.EndOfInterrupt();
        return total;
    }

    void IInterruptSink.Deliver(Interrupt interrupt, long raisedTimestamp)
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0) _nic?.Signal();
    }

    public void Dispose()
    {
        _device.Intx.Disconnect(this);
        if (_driver is not null && !_device.Function.Removed) _driver.Shutdown(_memory, _owner);
        _driver = null;
        _memory.Reclaim(_owner);
    }
}
