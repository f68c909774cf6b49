using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Pci;
using NicScript.Host.Capabilities;
using NicScript.Host.Cli;
using NicScript.Host.Cli.Bench;
using NicScript.Host.Manifests;
using NicScript.Host.Families.Dpu.Call;

namespace NicScript.Host.Families.Dpu;

/// <summary>The DPU: the machine file's <c>dpu</c> block, <c>CAP_DPU_ADMIN</c>, the <c>dpu</c> global (the agent's rpcs
/// in-process), the verbs that serve, call and declare the agent's state (<c>serve</c>, <c>plan</c>, <c>apply</c>, <c>call</c>),
/// <c>run --dpu-state/--dpu-listen</c> with the run's agent, and the <c>dpu-switch</c>/<c>dpu-rpc</c> bench rows.</summary>
internal sealed class DpuFamily : DeviceFamily
{
    public override string Name => "Dpu";

    internal override IReadOnlyList<MachineBlock> MachineBlocks { get; } = [new(DpuMachineBlock.Key, DpuMachineBlock.Read)];

    public override IReadOnlyList<CapabilitySpelling> Capabilities { get; } = [new(CapabilityKind.DpuAdmin, "CAP_DPU_ADMIN", CapabilityNames.ValueKind.None)];

    /// <summary>The agent is the run's (made on first use, shared with <c>--dpu-listen</c>); a session without one has none.</summary>
    public override IReadOnlyList<ScriptHandle> Handles { get; } =
        [ScriptHandle.Of<DpuHandle>("Dpu", CapabilityKind.DpuAdmin, (ctx, _, broker) => new DpuHandle(ctx, () => broker.Services.Get<DpuRunAgent>()?.Agent))];

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

    public override RunPart RunPart() => new DpuRunPart();

    /// <summary>Elastic NICs and vdisks come and go with the agent's state (<c>apply</c>, a script's rpcs), one slot per
    /// vport or pvf_id up to the machine's <c>dpu</c> sizes (and a bus's 32 devices).</summary>
    public override IReadOnlyList<HotAddSlots> HotAddSlots(MachineSpec? spec)
    {
        DpuConfig config = DpuMachineBlock.Of(spec);
        return
        [
            new("the DPU's elastic NICs (device = vport)", DpuDevice.ElasticNicAddress(0).Bus, Math.Min(config.ElasticNicSlots, PciAddress.MaxDevice + 1)),
            new("the DPU's vdisks (device = pvf_id)", DpuDevice.VdiskAddress(0).Bus, Math.Min(config.VdiskSlots, PciAddress.MaxDevice + 1)),
        ];
    }

    /// <summary>The switch's frame rate by rule count, with a meter and over two cables at once, and the agent's durable rpc rate beside the raw SQLite commit rate under it.</summary>
    public override IReadOnlyList<BenchRow> BenchRows { get; } =
    [
        new("dpu-switch 64 B, no rules", d => DpuBenchmarks.Switch("no rules", d)),
        new("dpu-switch 64 B, 256 rules", d => DpuBenchmarks.Switch("256 rules", d)),
        new("dpu-switch 64 B, meter", d => DpuBenchmarks.Switch("meter", d)),
        new("dpu-switch 64 B, 1 rule", d => DpuBenchmarks.Switch("1 rule", d)),
        new("dpu-switch 64 B, 4096 rules", d => DpuBenchmarks.Switch("4096 rules", d)),
        new("dpu-switch 64 B, two cables", DpuBenchmarks.TwoCables),
        new("dpu-rpc (8 clients, durable)", DpuBenchmarks.Rpc),
        new("sqlite commit (raw)", DpuBenchmarks.RawSqlite),
    ];
}
