using NicScript.Driver.Devices;
using Serilog;

namespace NicScript.Host.Runtime;

/// <summary>Device faults into the log: the driver core reports, the host writes (STYLE §8.4).</summary>
public sealed class DeviceEventLog : IDeviceEvents
{
    private readonly ILogger _log;

    public DeviceEventLog(ILogger log) => _log = log.ForContext<DeviceEventLog>();

    public void Fault(DeviceFault fault) =>
        _log.Warning("Device {Device} fault {Reason}: {Detail}", fault.Device, fault.Reason, fault.Detail);
}
