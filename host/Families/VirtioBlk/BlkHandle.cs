using NicScript.Driver;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Pci;

using NicScript.Host.Capabilities;
using Spec = NicScript.Driver.Devices.VirtioBlk.VirtioBlk; // the spec's constants (VirtioBlk alone is this namespace)

namespace NicScript.Host.Families.VirtioBlk;

/// <summary>The <c>blk</c> global: virtio-blk drivers for the disk functions this V-Node may reach (the DPU's vdisks).</summary>
/// <remarks>One grant: the function's <c>CAP_HARDWARE_IO_PCI</c>; a denial is audited.</remarks>
public sealed class BlkHandle
{
    private readonly VNodeContext _ctx;
    private readonly Machine _machine;

    public BlkHandle(VNodeContext ctx, Machine machine)
    {
        _ctx = ctx;
        _machine = machine;
    }

    /// <summary>The virtio-blk driver for the function at <paramref name="address"/>, not yet brought up.</summary>
    [ScriptApi]
    public VirtioBlkHandle Open(string address)
    {
        if (!PciAddress.TryParse(address, out PciAddress bdf, out string? error)) throw new ScriptCallException($"blk.open(\"{address}\"): {error}");
        if (!_ctx.Manifest.GrantsPci(bdf)) throw _ctx.Deny("CAP_HARDWARE_IO_PCI", bdf.ToString());
        if (!_machine.Pci.TryGet(bdf, out PciFunction f) || f.Removed || f.VendorId != VirtioPci.VendorId || f.DeviceId != Spec.ModernDeviceId)
            throw new ScriptCallException($"blk.open(\"{address}\"): no virtio-blk function at {bdf} on machine {_machine.Name}");
        _ctx.AttachDma(f); // its device may now reach this V-Node's DMA memory (and no one else's)
        return new VirtioBlkHandle(_ctx, _machine, f);
    }
}

/// <summary>A script's virtio-blk driver: bring-up, then sector reads and writes, FLUSH, GET_ID — synchronous, or posted and
/// reaped (<c>submitRead</c>/<c>submitWrite</c> + <c>poll</c>) when the script wants requests in flight.</summary>
public sealed class VirtioBlkHandle : FunctionDriverHandle<VirtioBlkDriver>
{
    internal VirtioBlkHandle(VNodeContext ctx, Machine machine, PciFunction function) : base(ctx, machine, function, "blk")
    {
    }

    /// <summary>Brings the disk up with <paramref name="queues"/> request queues (more than one needs the device's MQ).</summary>
    [ScriptApi]
    public VirtioBlkHandle Up(int queues = 1)
    {
        BringUp((f, dma, owner) => VirtioBlkDriver.BringUp(f, dma, owner, queues));
        return this;
    }

    /// <summary>Capacity in 512-byte sectors (read from the device configuration each time: a resize shows at once).</summary>
    [ScriptApi] public double Capacity => Driver.Capacity;

    /// <summary>The device status register (64 = DEVICE_NEEDS_RESET).</summary>
    [ScriptApi] public int DeviceStatus => Driver.DeviceStatus;

    /// <summary>Reads and clears the ISR (2: the configuration changed, e.g. a resize).</summary>
    [ScriptApi] public int AckInterrupt() => Driver.AckInterrupt();

    /// <summary>GET_ID: the disk's serial, the first 20 bytes of its name.</summary>
    [ScriptApi] public string Id() => Call(() => Driver.GetId());

    /// <summary>Reads <paramref name="sectors"/> sectors from <paramref name="sector"/>; a status other than OK is an error naming it.</summary>
    [ScriptApi]
    public byte[] Read(double sector, int sectors = 1, int queue = 0)
    {
        byte[] data = new byte[Length(sectors)];
        Check(Call(() => Driver.Read(Sector(sector), data, CheckQueue(queue))), "read", sector);
        return data;
    }

    /// <summary>Writes <paramref name="data"/> (whole sectors) at <paramref name="sector"/>.</summary>
    [ScriptApi]
    public void Write(double sector, byte[] data, int queue = 0)
    {
        if (data.Length == 0 || data.Length % Spec.SectorSize != 0 || data.Length > VirtioBlkDriver.MaxTransfer)
            throw new ScriptCallException($"blk write: {data.Length} bytes is not 1..{VirtioBlkDriver.MaxTransfer / Spec.SectorSize} whole sectors");
        Check(Call(() => Driver.Write(Sector(sector), data, CheckQueue(queue))), "write", sector);
    }

    /// <summary>FLUSH: when it returns, what was written is on stable storage.</summary>
    [ScriptApi] public void Flush(int queue = 0) => Check(Call(() => Driver.Flush(CheckQueue(queue))), "flush", 0);

    /// <summary>Posts a read and returns its tag without waiting (it completes at once unless the disk is paused).</summary>
    [ScriptApi]
    public int SubmitRead(double sector, int sectors = 1, int queue = 0) =>
        Driver.TrySubmit(CheckQueue(queue), Spec.TypeIn, Sector(sector), Length(sectors), out int tag) ? tag
            : throw new ScriptCallException($"blk submitRead: queue {queue} has all {Driver.SlotsPerQueue} slots in flight");

    /// <summary>One completed request of <paramref name="queue"/> as <c>{ tag, status, ok }</c>, or null when none is done.</summary>
    [ScriptApi]
    public BlkCompletion? Poll(int queue = 0) =>
        Driver.TryComplete(CheckQueue(queue), out int tag, out byte status) ? new BlkCompletion(tag, Spec.StatusName(status), status == Spec.StatusOk) : null;

    /// <summary>Requests posted on <paramref name="queue"/> and not yet polled.</summary>
    [ScriptApi] public int InFlight(int queue = 0) => Driver.InFlight(CheckQueue(queue));

    private protected override void Shutdown(VirtioBlkDriver driver) => driver.Shutdown(Machine.Dma, Ctx.DmaOwner);


    private int CheckQueue(int queue) => queue >= 0 && queue < Driver.QueueCount ? queue
        : throw new ScriptCallException($"blk: queue {queue} is not 0..{Driver.QueueCount - 1}");

    private static ulong Sector(double sector) => sector >= 0 && sector == Math.Floor(sector) && sector < 1UL << 53 ? (ulong)sector
        : throw new ScriptCallException($"blk: sector {sector} is not a whole number ≥ 0");

    private static int Length(int sectors) => sectors >= 1 && sectors <= VirtioBlkDriver.MaxTransfer / Spec.SectorSize ? sectors * Spec.SectorSize
        : throw new ScriptCallException($"blk: {sectors} sectors is not 1..{VirtioBlkDriver.MaxTransfer / Spec.SectorSize}");

    private static void Check(byte status, string what, double sector)
    {
        if (status != Spec.StatusOk) throw new ScriptCallException($"blk {what} at sector {sector}: {Spec.StatusName(status)}");
    }

    private T Call<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (VirtioDriverException e)
        {
            throw new ScriptCallException("blk: " + e.Message);
        }
    }
}

/// <summary>A reaped request: the tag <c>submitRead</c> returned and the status the device wrote.</summary>
public sealed record BlkCompletion([property: ScriptApi] int Tag, [property: ScriptApi] string Status, [property: ScriptApi] bool Ok);
