namespace NicScript.Driver.Devices;

/// <summary>Where device models report what went wrong; the host logs it. The driver core has no logging framework.</summary>
public interface IDeviceEvents
{
    void Fault(DeviceFault fault);
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
