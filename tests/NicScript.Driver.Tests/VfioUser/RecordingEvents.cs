using NicScript.Driver.Devices;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>The machine's device events as the host would log them, kept for the test to read (from any thread).</summary>
internal sealed class RecordingEvents : IDeviceEvents
{
    private readonly List<DeviceFault> _faults = new();
    private readonly List<DmaFault> _dma = new();

    public IReadOnlyList<DeviceFault> Faults
    {
        get { lock (_faults) return _faults.ToArray(); }
    }

    public IReadOnlyList<DmaFault> DmaFaults
    {
        get { lock (_dma) return _dma.ToArray(); }
    }

    public void Fault(DeviceFault fault)
    {
        lock (_faults) _faults.Add(fault);
    }

    void IDmaFaultSink.DmaFault(DmaFault fault)
    {
        lock (_dma) _dma.Add(fault);
    }

    /// <summary>Waits (the server reports on its own thread) for a fault with <paramref name="reason"/>; its detail, or null.</summary>
    public string? WaitFor(string reason, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        do
        {
            if (Faults.FirstOrDefault(f => f.Reason == reason) is { } f) return f.Detail;
            Thread.Sleep(5);
        }
        while (DateTime.UtcNow < until);
        return null;
    }
}
