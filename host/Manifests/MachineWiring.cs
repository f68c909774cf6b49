namespace NicScript.Host.Manifests;

/// <summary>A machine file's wires with the devices plugged into each, for a family's block that plugs into them too (the DPU's ports).</summary>
internal sealed class MachineWiring
{
    private readonly IReadOnlyDictionary<string, int> _plugged;
    private readonly IReadOnlyDictionary<string, YamlNode> _nodes;

    internal MachineWiring(IReadOnlyList<WireSpec> wires, IReadOnlyDictionary<string, int> plugged, IReadOnlyDictionary<string, YamlNode> nodes)
    {
        Wires = wires;
        _plugged = plugged;
        _nodes = nodes;
    }

    /// <summary>The wires that were read without a problem, in the file's order.</summary>
    public IReadOnlyList<WireSpec> Wires { get; }

    /// <summary>True when <paramref name="wire"/>'s devices take every end it has: nothing else can plug in.</summary>
    public bool IsFull(WireSpec wire) => _plugged.GetValueOrDefault(wire.Name) + 1 > MachineFileParser.Room(wire);

    /// <summary>How many ends <paramref name="wire"/> has, as an error says it ("it has 16 ports (raise ports)").</summary>
    public static string DescribeRoom(WireSpec wire) => MachineFileParser.Describe(wire, MachineFileParser.Room(wire));

    /// <summary>Where <paramref name="wire"/> is defined, for an error about it.</summary>
    public YamlNode At(WireSpec wire) => _nodes[wire.Name];
}
