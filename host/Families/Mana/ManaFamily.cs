using NicScript.Driver.Devices.Mana;
using System.Globalization;
using System.Text;
using NicScript.Driver;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;
using NicScript.Host.Cli;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.Mana;

/// <summary>MANA: the machine file's <c>mana</c> device (a PF whose SR-IOV VF 0 is the NIC), the <c>gdma</c> codec global,
/// its field tables in the REPL, and <c>nicscript gdma</c>.</summary>
internal sealed class ManaFamily : DeviceFamily
{
    public override string Name => "Mana";

    public override IReadOnlyList<MachineDeviceType> DeviceTypes { get; } =
    [
        new("mana", ["type", "address", "mac", "wire"], ["type", "address", "wire"], Place, Functions: 2),
    ];

    /// <summary>The GDMA codec needs no grant: it only touches the V-Node's own buffers.</summary>
    public override IReadOnlyList<ScriptHandle> Handles { get; } = [ScriptHandle.Of<GdmaHandle>("Gdma", null, (_, _, _) => new GdmaHandle())];

    public override IReadOnlyList<ReplFormat> Formats { get; } = [ReplFormat.Of<GdmaFields>(GdmaTable)];

    public override IReadOnlyList<CliVerb> Verbs { get; } = [new("gdma", GdmaCommand.Build)];

    /// <summary>The PF at the device's address; its VF 0 (the next function, MSI-X only) enabled at once and plugged into the wire,
    /// as on the default machine.</summary>
    private static void Place(Machine machine, DeviceSpec d, Link wire) =>
        machine.Add(new ManaPhysicalFunction(machine, d.Address, d.Mac, wire)).EnableVfs(1);

    /// <summary>A decoded GDMA structure (a CQE, an EQE, a request) as a field table: Linux name, decimal, hex.</summary>
    public static string GdmaTable(GdmaFields fields)
    {
        var pairs = fields.Pairs.ToArray();
        int width = Math.Max(5, pairs.Max(p => p.Key.Length));
        var sb = new StringBuilder().Append(fields.Type).Append('\n');
        foreach (var (key, value) in pairs)
            sb.Append("  ").Append(key.PadRight(width)).Append("  ").Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(20)).Append("  0x").Append(value.ToString("x")).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }
}
