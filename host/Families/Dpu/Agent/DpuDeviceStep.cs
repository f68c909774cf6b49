using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>What a committed change asks of the emulated DPU's functions; <see cref="DpuProgrammer.Apply"/> carries it
/// out. The switch's tables are not a step: they follow the published state once per batch.</summary>
internal abstract record DpuDeviceStep
{
    /// <summary>A new elastic NIC function for <paramref name="Port"/> at its vport.</summary>
    public sealed record AddElasticNic(uint Vport, PortCfg Port) : DpuDeviceStep;

    public sealed record RemoveElasticNic(uint Vport) : DpuDeviceStep;

    /// <summary>The NIC at <paramref name="Vport"/> takes <paramref name="Port"/>'s mac, mtu, queue pairs and features.</summary>
    public sealed record ReconfigureElasticNic(uint Vport, PortCfg Port) : DpuDeviceStep;

    /// <summary>A new disk function over a new backing file.</summary>
    public sealed record AddVdisk(NicScript.Dpu.V1.VdiskGetPvfCfg Disk) : DpuDeviceStep;

    /// <summary>The disk's function goes and its backing file with it.</summary>
    public sealed record RemoveVdisk(uint PvfId) : DpuDeviceStep;

    public sealed record ResizeVdisk(uint PvfId, ulong Sectors) : DpuDeviceStep;

    public sealed record PauseVdisk(uint PvfId, bool Pause) : DpuDeviceStep;
}
