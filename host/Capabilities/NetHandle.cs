using NicScript.Driver.Devices.Virtio;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Pci;
using NicScript.Host.Families;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>net</c> global: the NIC drivers of the network functions this V-Node may reach.</summary>
/// <remarks>One handle, one grant: <c>NetworkAccess</c> plus the function's <c>CAP_HARDWARE_IO_PCI</c>.</remarks>
public sealed class NetHandle
{
    private readonly VNodeContext _ctx;
    private readonly Machine _machine;

    public NetHandle(VNodeContext ctx, Machine machine)
    {
        _ctx = ctx;
        _machine = machine;
    }

    /// <summary>A raw split virtqueue of <paramref name="size"/> entries in this V-Node's DMA memory (the bring-up-by-hand path).</summary>
    [ScriptApi]
    public VirtqHandle Queue(int size, bool eventIdx = false)
    {
        _ctx.Require(CapabilityKind.DmaAlloc);
        return VirtqHandle.Create(_ctx, _machine.Dma, size, eventIdx);
    }

    /// <summary>The virtio-net driver for the function at <paramref name="address"/>, not yet brought up.</summary>
    [ScriptApi]
    public VirtioNetHandle Open(string address)
    {
        PciAddress bdf = Grant(address, "net.open", why => new ScriptCallException(why));
        // any virtio-net function on the bus: the machine's own, or one hot-added later (a DPU's elastic NIC)
        if (!_machine.Pci.TryGet(bdf, out PciFunction function) || function.Removed || function.VendorId != VirtioPci.VendorId ||
            function.Config.Read16(ConfigSpace.SubsystemId) != VirtioPci.SubsystemNet)
            throw new ScriptCallException($"net.open(\"{address}\"): no virtio-net function at {bdf} on machine {_machine.Name}");
        if (_machine.NetDevices.IsBound(bdf))
            throw new ScriptCallException($"net.open(\"{address}\"): {bdf} is in use as a netdevice (net.device); one driver per function");
        _ctx.AttachDma(function); // its device may now reach this V-Node's DMA memory (and no one else's)
        return new VirtioNetHandle(_ctx, _machine, function);
    }

    /// <summary>The netdevice of the function at <paramref name="address"/> (<c>DeviceInstance.GetDevice</c>, reference/netdevice.md §8.1).</summary>
    [ScriptApi]
    public Device Device(string address) => _machine.NetDevices.Get(Grant(address, "net.device"));

    /// <summary>The device side of that netdevice, for tests: inject and observe frames, hold and complete buffers (§8.6).</summary>
    [ScriptApi]
    public NicEmulator Emulator(string address)
    {
        NicEmulator nic = _machine.NetDevices.Get(Grant(address, "net.emulator")).Nic;
        nic.CaptureSent = true;
        return nic;
    }

    /// <summary>A typed view of a descriptors region: <c>get(i)</c> / <c>set(i, {...})</c> of the version-1 layout.</summary>
    [ScriptApi]
    public DescriptorTable DescriptorTable(DmaBuffer region, int lengthWords)
    {
        _ctx.Require(CapabilityKind.NetworkAccess);
        return new DescriptorTable(region, lengthWords);
    }

    /// <summary>The enums and bits of <c>fuchsia.hardware.network</c> that <c>net</c> carries (reference §8.1):
    /// <c>net.SessionFlags.PRIMARY</c> in JavaScript, <c>SessionFlags.PRIMARY</c> in C#.</summary>
    public static IReadOnlyList<ScriptConstants> Constants { get; } =
    [
        .. new[]
        {
            typeof(FrameType), typeof(SessionFlags), typeof(RxFlags), typeof(TxFlags), typeof(TxReturnFlags), typeof(StatusFlags),
            typeof(MacFilterMode), typeof(DeviceClass), typeof(InfoType),
        }.Select(t => ScriptConstants.Grouped("Net", t)),
    ];

    /// <summary>NetworkAccess, a well-formed address, and the function's PCI grant; a malformed address fails the caller's way.</summary>
    private PciAddress Grant(string address, string call, Func<string, Exception>? malformed = null)
    {
        _ctx.Require(CapabilityKind.NetworkAccess);
        if (!PciAddress.TryParse(address, out PciAddress bdf, out string? error))
        {
            string why = $"{call}(\"{address}\"): {error}";
            throw malformed?.Invoke(why) ?? new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, why);
        }
        if (!_ctx.Manifest.GrantsPci(bdf)) throw _ctx.Deny("CAP_HARDWARE_IO_PCI", bdf.ToString());
        return bdf;
    }
}
