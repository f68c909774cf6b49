using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.VirtioBlk;

/// <summary>virtio-blk: the <c>blk</c> global, drivers for the disk functions the V-Node's PCI grants reach.</summary>
/// <remarks>Its functions are the DPU's vdisks, hot-added by the agent; a machine file places none yet.</remarks>
internal sealed class VirtioBlkFamily : DeviceFamily
{
    public override string Name => "VirtioBlk";

    public override IReadOnlyList<ScriptHandle> Handles { get; } =
        [ScriptHandle.Of<BlkHandle>("Blk", CapabilityKind.HardwareIoPci, (ctx, machine, _) => new BlkHandle(ctx, machine))];
}
