using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>A netdevice over the MANA VF: the native GDMA driver's send and receive queues carry the frames.</summary>
/// <remarks>
/// Staging posts straight into the SQ (each staged frame is one WQE in its own TX slot), <see cref="Flush"/> rings one
/// doorbell for the burst. The VF's wire answers a doorbell at once, so the NIC looks at the RQ after every burst; events
/// (EQEs) are handled on each poll as <c>mana_gd_process_eq_events</c> would.
/// </remarks>
internal sealed class ManaUplink : INicUplink
{
    private readonly ManaDevice _device;
    private readonly DmaMemory _memory;
    private readonly DmaOwner _owner;
    private readonly ManaQueuePair.FrameHandler _receive;
    private ManaDriver? _driver;
    private NicEmulator? _nic;
    private int _posted, _staged, _signalled;
    private bool _full;

    public ManaUplink(ManaDevice device, DmaMemory memory)
    {
        _device = device;
        _memory = memory;
        _owner = memory.CreateOwner($"netdevice {device.Function.Address}", 64L << 20);
        _receive = frame => _nic?.UplinkReceive(frame);
    }

    public int BurstCapacity => 32;

    public bool LinkUp => !_device.Function.Removed;

    public void Attach(NicEmulator nic) => _nic = nic;

    public void Start()
    {
        if (_driver is not null || _device.Function.Removed) return;
        var driver = new ManaDriver(_device.Function, _memory, _owner);
        driver.BringUp(ringBytes: 32768, frames: 512);
        _driver = driver;
    }

    private ManaQueuePair? Queues => _device.Function.Removed ? null : _driver?.Queues;

    public Span<byte> StageBuffer(int index)
    {
        if (index == 0)
        {
            _staged = _posted = 0;
            _full = false;
        }
        return Queues is { } q && !_full ? q.NextTxBuffer() : Span<byte>.Empty;
    }

    public void SetStagedLength(int index, int length)
    {
        _staged++;
        if (Queues is { } q && !_full && q.Post(length)) _posted++;
        else _full = true;
    }

    public int Flush(int count)
    {
        if (Queues is not { } q) return 0;
        q.Flush();
        q.PollTx(256);
        int sent = _posted;
        _posted = _staged = 0;
        _full = false;
        Volatile.Write(ref _signalled, 1);
        return Math.Min(sent, count);
    }

    public bool TakeSignal() => Interlocked.Exchange(ref _signalled, 0) != 0;

    public int Poll(NicEmulator nic)
    {
        if (Queues is not { } q) return 0;
        q.ProcessEvents();
        q.PollTx(256);
        int total = 0, n;
        do
        {
            n = q.PollRx(_receive, 64);
            total += n;
        }
        while (n == 64);
        return total;
    }

    public void Dispose()
    {
        _driver?.Dispose();
        _driver = null;
        _memory.Reclaim(_owner);
    }
}
