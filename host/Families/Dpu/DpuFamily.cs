using NicScript.Host.Capabilities;
using NicScript.Host.Cli;
using NicScript.Host.Cli.Call;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.Dpu;

/// <summary>The DPU: <c>CAP_DPU_ADMIN</c>, the <c>dpu</c> global (the agent's rpcs in-process) and the verbs that serve,
/// call and declare the agent's state (<c>serve</c>, <c>plan</c>, <c>apply</c>, <c>call</c>).</summary>
internal sealed class DpuFamily : DeviceFamily
{
    public override string Name => "Dpu";

    public override IReadOnlyList<CapabilitySpelling> Capabilities { get; } = [new(CapabilityKind.DpuAdmin, "CAP_DPU_ADMIN", CapabilityNames.ValueKind.None)];

    /// <summary>The run's agent is the broker's (made on first use, shared with <c>--dpu-listen</c>).</summary>
    public override IReadOnlyList<ScriptHandle> Handles { get; } =
        [ScriptHandle.Of<DpuHandle>("Dpu", CapabilityKind.DpuAdmin, (ctx, _, broker) => new DpuHandle(ctx, () => broker.DpuAgent?.Value))];

    /// <summary>An rpc's refusal in JavaScript: <c>status</c> is its name, <c>code</c> its number, <c>detail</c> the reason.</summary>
    public override IReadOnlyList<ScriptErrorFields> ScriptErrors { get; } =
        [ScriptErrorFields.Of<DpuException>(dpu => [("status", dpu.Status), ("code", dpu.Code), ("detail", dpu.Detail)])];

    public override IReadOnlyList<CliVerb> Verbs { get; } =
    [
        new("serve", ServeCommand.Build),
        new("plan", DpuStateCommands.Plan),
        new("apply", DpuStateCommands.Apply),
        new("call", CallCommand.Build),
    ];
}
