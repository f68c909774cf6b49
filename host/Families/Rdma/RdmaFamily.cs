using NicScript.Driver.Devices.Rdma;
using NicScript.Host.Capabilities;
using NicScript.Host.Cli;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.Rdma;

/// <summary>RDMA (rxe-style RoCEv2): <c>CAP_RDMA</c>, the <c>rdma</c> verbs global with the seed's constants and <c>nicscript rdma</c>.</summary>
/// <remarks>A machine file binds an RDMA device with <c>rdma: true</c> on a NIC device (see the VirtioNet family's type).</remarks>
internal sealed class RdmaFamily : DeviceFamily
{
    public override string Name => "Rdma";

    public override IReadOnlyList<CapabilitySpelling> Capabilities { get; } = [new(CapabilityKind.Rdma, "CAP_RDMA", CapabilityNames.ValueKind.None)];

    /// <summary>Every verb checks <c>CAP_RDMA</c> itself and returns −1 without it.</summary>
    public override IReadOnlyList<ScriptHandle> Handles { get; } =
        [ScriptHandle.Of<RdmaHandle>("Rdma", CapabilityKind.Rdma, (ctx, machine, _) => new RdmaHandle(ctx, machine))];

    /// <summary>The seed's constants (reference §2.1), named as it names them: <c>rdma.RDMA_ACCESS_LOCAL_WRITE</c>, and bare.</summary>
    public override IReadOnlyList<ScriptConstants> Constants { get; } =
        [.. new[] { typeof(RdmaAccess), typeof(RdmaWcStatus), typeof(RdmaWcOpcode), typeof(RdmaQpState) }.Select(t => ScriptConstants.Bare("Rdma", t))];

    public override IReadOnlyList<CliVerb> Verbs { get; } = [new("rdma", RdmaCommand.Build)];
}
