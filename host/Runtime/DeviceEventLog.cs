using NicScript.Driver.Devices;
using NicScript.Driver.Memory;
using Serilog;

namespace NicScript.Host.Runtime;

/// <summary>Device faults into the log: the driver core reports, the host writes (STYLE §8.4).</summary>
public sealed class DeviceEventLog : IDeviceEvents
{
    private readonly ILogger _log;

    public DeviceEventLog(ILogger log) => _log = log.ForContext<DeviceEventLog>().ForContext("Component", "machine"); // the lines' source: no V-Node

    public void Fault(DeviceFault fault) =>
        _log.Warning("Device {Device} fault {Reason}: {Detail}", fault.Device, fault.Reason, fault.Detail);

    /// <summary>A DMA fault with no V-Node's driver attached (one with a driver is audited under the V-Node instead).</summary>
    public void DmaFault(DmaFault fault)
    {
        if (fault.Driver is not null) return;
        _log.Warning("DMA fault {Function} {Access} 0x{Iova:x}+{Length} ({Reason}) with no driver attached; {Total} faults on the function",
            fault.Function, fault.Write ? "write" : "read", fault.Iova, fault.Length, fault.Reason, fault.Total);
    }
}
