namespace NicScript.Driver.Devices.Dpu;

/// <summary>A virtual disk as the DPU places and manages it: the function on the host's bus over a backing file, resized,
/// paused and closed by the agent (disposing closes the file, the data stays).</summary>
public interface IVdisk : IDisposable
{
    /// <summary>The function the DPU places on the host's bus.</summary>
    IDeviceModel Model { get; }

    /// <summary>The file the disk's data lives in.</summary>
    string BackingFile { get; }

    /// <summary>Grows the disk to <paramref name="sectors"/> (a disk never shrinks); false when it already has that size.</summary>
    bool Resize(ulong sectors);

    /// <summary>Holds (or resumes) the disk's requests; false when it already was.</summary>
    bool Pause(bool pause);
}
