using NicScript.Driver.Memory;

namespace NicScript.Driver.Devices;

/// <summary>Where device models report what went wrong; the host logs it. The driver core has no logging framework.</summary>
/// <remarks>DMA faults reach the owners attached to the function's domain (the V-Node's audit) and, through this, the
/// device log; a sink that does not log them inherits the empty default.</remarks>
public interface IDeviceEvents : IDmaFaultSink
{
    void Fault(DeviceFault fault);

    void IDmaFaultSink.DmaFault(DmaFault fault)
    {
    }
}

/// <summary>A device refused something a driver did: which device, a reason code, and the numbers that explain it.</summary>
public sealed record DeviceFault(string Device, string Reason, string Detail);

/// <summary>Discards events (tests, benchmarks).</summary>
public sealed class NoDeviceEvents : IDeviceEvents
{
    public static readonly NoDeviceEvents Instance = new();

    public void Fault(DeviceFault fault)
    {
    }
}
