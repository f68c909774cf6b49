using System.Collections.Immutable;
using NicScript.Host.Capabilities;
using NicScript.Host.Families.Dpu;
using NicScript.Host.Families.Mana;
using NicScript.Host.Families.Rdma;
using NicScript.Host.Families.VirtioBlk;
using NicScript.Host.Families.VirtioNet;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families;

/// <summary>The host's device families, one line each; what they contribute, gathered once in registry order.</summary>
/// <remarks>
/// Design: the order is visible — the machine file lists its device types in it, <c>nicscript --help</c> its verbs, the
/// manifest's "known:" list its capabilities after the core ones — so a new family goes last. This is the host's
/// composition root for families: it names every family and every layer, and the layers below read only their own
/// slice of it (the parser its device types, the broker its handles, the command line its verbs). The NetDevice layer is
/// not a family: it sits above every NIC family (its <c>net</c> global and <c>netdevice</c> block serve each of them).
/// </remarks>
public static class DeviceFamilies
{
    /// <summary>Every family, in the order their contributions are listed.</summary>
    public static readonly ImmutableArray<DeviceFamily> All =
    [
        new VirtioNetFamily(),
        new ManaFamily(),
        new RdmaFamily(),
        new DpuFamily(),
        new VirtioBlkFamily(),
    ];

    /// <summary>Every machine-file device type; the first is the one whose keys an unknown type's device is checked against.</summary>
    public static readonly ImmutableArray<MachineDeviceType> DeviceTypes = [.. All.SelectMany(f => f.DeviceTypes)];

    /// <summary>Every machine-file block families own, in registry order (the order the file's "expected" keys list them).</summary>
    internal static readonly ImmutableArray<MachineBlock> MachineBlocks = [.. All.SelectMany(f => f.MachineBlocks)];

    /// <summary>The capabilities families add, after the core ones.</summary>
    public static readonly ImmutableArray<CapabilitySpelling> Capabilities = [.. All.SelectMany(f => f.Capabilities)];

    /// <summary>Every family's script globals.</summary>
    public static readonly ImmutableArray<ScriptHandle> Handles = [.. All.SelectMany(f => f.Handles)];

    /// <summary>The driver constants script globals carry: the core <c>net</c> global's (the NetDevice layer's enums), then every family's.</summary>
    public static readonly ImmutableArray<ScriptConstants> Constants = [.. NetHandle.Constants, .. All.SelectMany(f => f.Constants)];

    /// <summary>Every family's REPL formats.</summary>
    public static readonly ImmutableArray<ReplFormat> Formats = [.. All.SelectMany(f => f.Formats)];

    /// <summary>Every family's script error fields.</summary>
    public static readonly ImmutableArray<ScriptErrorFields> ScriptErrors = [.. All.SelectMany(f => f.ScriptErrors)];

    /// <summary>Every family's CLI verbs.</summary>
    public static readonly ImmutableArray<CliVerb> Verbs = [.. All.SelectMany(f => f.Verbs)];

    /// <summary>Every family's bench rows.</summary>
    public static readonly ImmutableArray<BenchRow> BenchRows = [.. All.SelectMany(f => f.BenchRows)];

    /// <summary>Every family's part in a new <c>nicscript run</c> command, in registry order (the order <c>--help</c> lists their options).</summary>
    public static ImmutableArray<RunPart> RunParts() => [.. All.Select(f => f.RunPart()).OfType<RunPart>()];

    /// <summary>The JavaScript error fields a family gives <paramref name="e"/>, or null.</summary>
    public static (string Name, object Value)[]? ErrorFields(Exception e)
    {
        foreach (ScriptErrorFields f in ScriptErrors)
            if (f.Type.IsInstanceOfType(e)) return f.Fields(e);
        return null;
    }

    /// <summary>The device type named <paramref name="name"/>, or null.</summary>
    public static MachineDeviceType? DeviceType(string name)
    {
        foreach (MachineDeviceType t in DeviceTypes)
            if (t.Name == name) return t;
        return null;
    }
}
