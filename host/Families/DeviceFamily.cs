using System.Text;
using NicScript.Driver;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families;

/// <summary>What one device family adds to the host: machine-file device types and blocks, capabilities, script handles and
/// the constants they carry, REPL formats, CLI verbs, <c>run</c> options with the service they configure, and bench rows, all
/// declared here so that the host's generic code reads them from <see cref="DeviceFamilies"/>.</summary>
/// <remarks>
/// Design: a family is one folder (<c>host/Families/Mana/</c>: its module, handles, verbs and the part of
/// <c>VNodeGlobals</c> that names its globals) plus one line in <see cref="DeviceFamilies.All"/>. The generic code —
/// <see cref="MachineFileParser"/>, <see cref="CapabilityNames"/>, the capability broker, the script globals, the REPL
/// formatter and stats, the command line, <c>run</c> and <c>bench</c> — iterates the registry and names no family. Every
/// member defaults to "nothing", so a family overrides only what it has. Members are read once, when the registry is built
/// (<see cref="RunPart"/> once per command built).
/// </remarks>
public abstract class DeviceFamily
{
    /// <summary>The family's name (its folder's).</summary>
    public abstract string Name { get; }

    /// <summary>The device types a machine file may place (<c>devices: - type: …</c>).</summary>
    public virtual IReadOnlyList<MachineDeviceType> DeviceTypes => [];

    /// <summary>The machine file's top-level blocks the family owns (beside <c>machine</c>, <c>wires</c>, <c>devices</c>); internal,
    /// as the YAML reader they are given is.</summary>
    internal virtual IReadOnlyList<MachineBlock> MachineBlocks => [];

    /// <summary>The capabilities the family adds to the manifest's vocabulary, with their manifest spellings.</summary>
    public virtual IReadOnlyList<CapabilitySpelling> Capabilities => [];

    /// <summary>The script globals the family adds, each with the capability its calls check.</summary>
    public virtual IReadOnlyList<ScriptHandle> Handles => [];

    /// <summary>The driver constants the family's globals carry (<c>rdma.RDMA_WC_SUCCESS</c>), read from the driver's types.</summary>
    public virtual IReadOnlyList<ScriptConstants> Constants => [];

    /// <summary>How the REPL shows the family's result types.</summary>
    public virtual IReadOnlyList<ReplFormat> Formats => [];

    /// <summary>The fields of the JavaScript errors the family's exceptions become.</summary>
    public virtual IReadOnlyList<ScriptErrorFields> ScriptErrors => [];

    /// <summary>The family's <c>nicscript</c> verbs, in the order <c>--help</c> lists them.</summary>
    public virtual IReadOnlyList<CliVerb> Verbs => [];

    /// <summary>The family's part in <c>nicscript run</c> (options, and the per-run service its handles share), made afresh for
    /// each command built; null when it adds none.</summary>
    public virtual RunPart? RunPart() => null;

    /// <summary>The family's <c>nicscript bench</c> rows, in the order they run (after the core and RDMA rows).</summary>
    public virtual IReadOnlyList<BenchRow> BenchRows => [];

    /// <summary>Where the family places functions on the machine <paramref name="spec"/> describes (null: the default one)
    /// while it runs: an <c>--export</c> of such an address waits for its function instead of being refused.</summary>
    public virtual IReadOnlyList<HotAddSlots> HotAddSlots(MachineSpec? spec) => [];

    /// <summary>Appends the family's devices' counters to the REPL's <c>.stats</c> (one line per device).</summary>
    public virtual void AppendStats(Machine machine, StringBuilder text)
    {
    }
}
