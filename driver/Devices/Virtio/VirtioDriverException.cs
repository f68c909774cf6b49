namespace NicScript.Driver.Devices.Virtio;

/// <summary>Bring-up failed: the function is not virtio-net, refused our features or our queues. The driver set FAILED.</summary>
public sealed class VirtioDriverException : Exception
{
    public VirtioDriverException(string message) : base(message) { }
}
