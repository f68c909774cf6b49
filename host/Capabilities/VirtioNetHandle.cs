using NicScript.Driver.Devices.Virtio;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Host.Capabilities;

/// <summary>A script's virtio-net driver: bring-up, then bursts — the <c>SYS_NET_RX_POLL</c> / <c>SYS_NET_TX</c> of the net-bridge seed.</summary>
public sealed class VirtioNetHandle : FunctionDriverHandle<VirtioNetDriver>
{
    internal VirtioNetHandle(VNodeContext ctx, Machine machine, PciFunction function) : base(ctx, machine, function, "net")
    {
    }

    /// <summary>Brings the NIC up: <c>"poll"</c> (no interrupts), <c>"intx"</c> (the legacy line) or <c>"msix"</c>.</summary>
    [ScriptApi]
    public VirtioNetHandle Up(string interrupts = "poll")
    {
        bool? mode = interrupts switch
        {
            "poll" => null,
            "intx" => false,
            "msix" => true,
            _ => throw new ScriptCallException($"net up(\"{interrupts}\"): expected \"poll\", \"intx\" or \"msix\""),
        };
        BringUp((f, dma, owner) => VirtioNetDriver.BringUp(f, dma, owner, interrupts: mode));
        return this;
    }

    /// <summary>The MAC address the device reports, as <c>52:54:00:12:34:56</c>.</summary>
    [ScriptApi] public string Mac => NicScript.Driver.Wire.MacAddress.Format(Driver.Mac);

    [ScriptApi] public bool LinkUp => Driver.LinkUp;

    /// <summary>The device status register (64 = DEVICE_NEEDS_RESET).</summary>
    [ScriptApi] public int DeviceStatus => Driver.DeviceStatus;

    /// <summary>A burst of up to <paramref name="capacity"/> frame buffers from the NIC's pool (DMA memory).</summary>
    [ScriptApi]
    public FrameBurstHandle Burst(int capacity = FrameBurst.DefaultCapacity)
    {
        if (capacity is < 1 or > 256) throw new ScriptCallException($"burst({capacity}): capacity must be 1..256");
        var burst = new FrameBurst(Driver.Pool, capacity);
        if (!burst.Fill()) throw new ScriptCallException("burst: the frame pool is empty");
        return new FrameBurstHandle(Ctx, burst);
    }

    /// <summary>Sends the burst's frames; returns how many went. The burst gets fresh buffers (zero copy).</summary>
    [ScriptApi]
    public int Tx(FrameBurstHandle burst)
    {
        FrameBurst b = burst.Burst;
        int sent = Driver.Tx(b);
        if (b.HasHoles) b.Fill(); // positions Tx could not refill (pool ran dry) get a buffer now, if there is one
        return sent;
    }

    /// <summary>Receives up to a burst of frames into <paramref name="burst"/>; returns how many.</summary>
    [ScriptApi] public int RxPoll(FrameBurstHandle burst) => Driver.RxPoll(burst.Burst);

    /// <summary>Gives a frame buffer back to the NIC's pool (one that came back from another V-Node, or one not needed).</summary>
    [ScriptApi]
    public void Release(FrameBuffer frame)
    {
        if (!ReferenceEquals(frame.Pool, Driver.Pool)) throw new ScriptCallException($"{frame} belongs to another NIC's pool");
        frame.Frame(0); // held by us? (a denial otherwise)
        if (!Driver.Pool.Return(frame.Slot)) throw new ScriptCallException($"{frame} is already back in the pool");
    }

    /// <summary>Acknowledges an INTx interrupt by reading the ISR; returns it (1: a queue, 2: config changed).</summary>
    [ScriptApi] public int AckInterrupt() => Driver.AckInterrupt();

    /// <summary>Frames waiting to be polled.</summary>
    [ScriptApi] public int RxPending => Driver.RxPending;

    [ScriptApi] public double TxFrames => Driver.TxFrames;

    [ScriptApi] public double RxFrames => Driver.RxFrames;

    /// <summary>Resets the device (status 0) and frees its rings and frame buffers; bursts made from it are dead afterwards.</summary>
    private protected override void Shutdown(VirtioNetDriver driver) => driver.Shutdown(Machine.Dma, Ctx.DmaOwner);
}
