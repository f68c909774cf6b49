using System.Text;
using NicScript.Driver.Memory;

namespace NicScript.Driver.NetDevice;

/// <summary>
/// A client's <c>Device</c> channel to a network device in the <c>fuchsia.hardware.network</c> sense (reference/netdevice.md):
/// <c>GetInfo</c>, <c>GetPort</c>, <c>GetPortWatcher</c>, <c>OpenSession</c>. The device itself — NIC, ports, sessions,
/// data path — is the <see cref="DeviceInterface"/> behind it.
/// </summary>
/// <remarks>
/// Design: as in Fuchsia, where <c>DeviceInterface</c> serves <c>Device</c> bindings, this channel checks a call's
/// arguments and the device changes its state; both run under the device's one lock. Constructing a channel makes its
/// device (one channel per device today: the registry hands the same one to every script); teardown closes it without
/// an epitaph. The device-side members below (<see cref="Nic"/>, teardown, ports) pass through to the device, for the
/// registry and the host that hold a <see cref="Device"/>.
/// </remarks>
public sealed class Device : NetProxy
{
    public Device(string name, NicConfig config, INicUplink? uplink = null)
        : this(new DeviceInterface(name, config, uplink))
    {
    }

    private Device(DeviceInterface device)
    {
        Interface = device;
        device.TornDown += _ => TornDown?.Invoke(this);
        device.Bind(this);
    }

    /// <summary>The device this channel speaks to.</summary>
    internal DeviceInterface Interface { get; }

    /// <summary>The device's lock.</summary>
    internal object Sync => Interface.Sync;

    /// <summary>The PCI address (or other name) the device was made for.</summary>
    [ScriptApi] public string Name => Interface.Name;

    public NicConfig Config => Interface.Config;

    /// <summary>The device side (the NIC the layer drives), with the test surface of reference §8.6.</summary>
    public NicEmulator Nic => Interface.Nic;

    /// <summary>True from the start of teardown: the device takes no new calls.</summary>
    public bool TearingDown => Interface.TearingDown;

    /// <summary>True once teardown finished: every session has its epitaph.</summary>
    public bool Gone => Interface.Gone;

    /// <summary>Raised (under the lock) when teardown has finished.</summary>
    public event Action<Device>? TornDown;

    [ScriptApi]
    public DeviceInfo GetInfo()
    {
        lock (Sync)
        {
            ThrowIfClosed("GetInfo");
            return Interface.Info;
        }
    }

    /// <summary>A channel to port <paramref name="id"/>; closed with ZX_ERR_NOT_FOUND when there is no such port.</summary>
    [ScriptApi]
    public Port GetPort(byte id)
    {
        lock (Sync)
        {
            ThrowIfClosed("GetPort");
            return Interface.BindPort(id);
        }
    }

    [ScriptApi]
    public PortWatcher GetPortWatcher()
    {
        lock (Sync)
        {
            ThrowIfClosed("GetPortWatcher");
            return Interface.BindPortWatcher();
        }
    }

    /// <summary>Opens a session (checks of reference §4.1, in order); throws <see cref="ZxException"/>.</summary>
    [ScriptApi]
    public OpenSessionResult OpenSession(string name, SessionInfo info)
    {
        lock (Sync)
        {
            ThrowIfClosed("OpenSession");
            if (TearingDown) Fail(ZxStatus.ZX_ERR_UNAVAILABLE, "the device is being torn down");
            name ??= "";
            if (Encoding.UTF8.GetByteCount(name) > NetConstants.MAX_SESSION_NAME)
                Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"name is {Encoding.UTF8.GetByteCount(name)} bytes, at most {NetConstants.MAX_SESSION_NAME}");
            if (info.Descriptors is null || info.Data is null || info.DescriptorVersion is null || info.DescriptorLength is null || info.DescriptorCount is null)
                Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "descriptors, data, descriptorVersion, descriptorLength and descriptorCount are required; missing: " + Missing(info));
            if (info.DescriptorVersion != NetConstants.DescriptorVersion)
                Fail(ZxStatus.ZX_ERR_NOT_SUPPORTED, $"descriptor version {info.DescriptorVersion} (this device speaks version {NetConstants.DescriptorVersion})");
            SessionFlags flags = info.Options ?? 0;
            if (((ushort)flags & ~0x0007) != 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"options 0x{(ushort)flags:x4} has bits outside PRIMARY | LISTEN_TX | REPORT_INVALID_RX");
            int words = info.DescriptorLength!.Value, count = info.DescriptorCount!.Value;
            if (words < NetConstants.MinDescriptorLength) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"descriptorLength {words} is below the minimum {NetConstants.MinDescriptorLength}");
            if (count == 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "descriptorCount is 0");
            DmaRegion descriptors = info.Descriptors!.Region, data = info.Data!.Region;
            if (descriptors.IsFreed || data.IsFreed) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "a region was freed");
            if (!ReferenceEquals(descriptors.Owner, data.Owner)) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "the descriptors and data regions have different owners");
            long needed = (long)count * words * 8;
            if (descriptors.Length < needed) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, $"the descriptors region has {descriptors.Length} bytes, {count} × {words * 8} = {needed} needed");
            if (data.Length == 0) Fail(ZxStatus.ZX_ERR_INVALID_ARGS, "the data region is empty");
            if (Interface.SessionCount >= NetConstants.MAX_VMOS) Fail(ZxStatus.ZX_ERR_NO_RESOURCES, $"{NetConstants.MAX_VMOS} sessions are open on this device");
            Session session = Interface.AddSession(name, flags, descriptors, data, count, words);
            return new OpenSessionResult(session, session.Fifos);
        }

        static string Missing(SessionInfo i) => string.Join(", ", new[]
        {
            i.Descriptors is null ? "descriptors" : null, i.Data is null ? "data" : null, i.DescriptorVersion is null ? "descriptorVersion" : null,
            i.DescriptorLength is null ? "descriptorLength" : null, i.DescriptorCount is null ? "descriptorCount" : null,
        }.Where(s => s is not null));
    }

    private static void Fail(ZxStatus status, string why) => throw new ZxException(status, "OpenSession: " + why);

    // ---- the device side, for the registry (hot-removal) ----

    internal IEnumerable<byte> PortIds() => Interface.PortIds();

    internal void RemovePort(byte id) => Interface.RemovePort(id);

    internal void Teardown() => Interface.Teardown();

    public override string ToString() => $"netdevice {Name}";
}
