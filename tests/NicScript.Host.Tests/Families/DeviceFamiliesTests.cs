using System.Reflection;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Tests.Architecture;
using NicScript.Host.Cli;
using NicScript.Host.Families;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Spectre.Console;

namespace NicScript.Host.Tests.Families;

/// <summary>Each registered family contributes what its module claims: the manifest accepts its capabilities, the script
/// globals and the broker carry its handles, <c>nicscript --help</c> lists its verbs, a machine file places its device types
/// and takes its blocks, <c>nicscript run --help</c> lists its options; and the generic code names no family's type.</summary>
public sealed class DeviceFamiliesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Families() => [.. DeviceFamilies.All.Select(f => f.Name)];

    private static DeviceFamily Family(string name) => DeviceFamilies.All.Single(f => f.Name == name);

    /// <summary>The value a capability of <paramref name="value"/> kind takes in a manifest.</summary>
    private static string Grant(string name, CapabilityNames.ValueKind value) => value switch
    {
        CapabilityNames.ValueKind.PciAddress => $"  - {name}: \"00:1f.0\"",
        CapabilityNames.ValueKind.Irq => $"  - {name}: 11",
        _ => $"  - {name}",
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Capabilities_EachDeclared_IsGrantedByAManifest(string family)
    {
        foreach (CapabilitySpelling c in Family(family).Capabilities)
        {
            _dir.Write("main.js", "");
            VNodeManifest manifest = ManifestLoader.LoadVNode(_dir.Write("v.yml", TestVNode.Manifest("v", Grant(c.Name, c.Value))));
            Assert.True(manifest.Grants(c.Kind), $"{family}: {c.Name}");
            Assert.Contains(c.Name, CapabilityNames.All);
            Assert.Equal(c.Name, CapabilityNames.ToName(c.Kind));
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Handles_EachDeclared_IsAScriptGlobalTheBrokerMakes(string family)
    {
        using var v = TestVNode.Create("v", "  - CAP_LOG_WRITE");
        var globals = new VNodeGlobals(v.Handles);
        foreach (ScriptHandle h in Family(family).Handles)
        {
            PropertyInfo? p = typeof(VNodeGlobals).GetProperty(h.Global);
            Assert.True(p is not null && p.IsDefined(typeof(ScriptApiAttribute)), $"{family}: VNodeGlobals.{h.Global} is not a [ScriptApi] property");
            Assert.Equal(h.Type, p!.PropertyType);
            object? made = p.GetValue(globals);
            Assert.IsType(h.Type, made);
            Assert.Contains(made, v.Handles.Families);
            if (h.Needs is { } needs) Assert.Contains(CapabilityNames.ToName(needs), CapabilityNames.All);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Verbs_EachDeclared_IsListedByHelp(string family)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        var cli = new CliContext(console, output, new StringWriter());
        Assert.Equal(0, await Program.RunAsync(cli, ["--help"]));
        string[] lines = output.ToString().Split('\n');
        foreach (CliVerb verb in Family(family).Verbs)
        {
            Assert.Equal(verb.Name, verb.Build(cli).Name);
            Assert.Contains(lines, l => l.TrimStart().StartsWith(verb.Name + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void DeviceTypes_Each_IsPlacedFromAMachineFile(string family)
    {
        foreach (MachineDeviceType t in Family(family).DeviceTypes)
        {
            Assert.Contains("type", t.Required);
            Assert.All(t.Required, k => Assert.Contains(k, t.Keys));
            string irq = t.Required.Contains("irq") ? ", irq: 5" : "";
            string path = _dir.Write("m.yml", $"machine: {{ name: m }}\nwires:\n  - {{ name: w, type: loopback }}\ndevices:\n  - {{ type: {t.Name}, address: \"00:03.0\"{irq}, wire: w }}\n");
            MachineSpec spec = MachineFileParser.Load(path);
            Assert.Equal(t.Name, Assert.Single(spec.Devices).Type);
            var (machine, owned) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
            using (machine) Assert.Contains(machine.Pci.Functions, f => f.Address == spec.Devices[0].Address);
            Assert.Empty(owned);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void MachineBlocks_Each_IsReadFromTheTopOfAMachineFile(string family)
    {
        foreach (MachineBlock b in Family(family).MachineBlocks)
        {
            string path = _dir.Write("m.yml", $"machine: {{ name: m }}\nwires:\n  - {{ name: w, type: loopback }}\ndevices: []\n{b.Key}: {{}}\n");
            Assert.True(MachineFileParser.Load(path).Blocks.ContainsKey(b.Key), $"{family}: {b.Key}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task RunParts_EachOption_IsListedByRunHelp(string family)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output) });
        Assert.Equal(0, await Program.RunAsync(new CliContext(console, output, new StringWriter()), ["run", "--help"]));
        string[] lines = output.ToString().Split('\n');
        foreach (System.CommandLine.Option option in Family(family).RunPart()?.Options ?? [])
            Assert.Contains(lines, l => l.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal));
    }

    /// <summary>The measure for the DPU: the generic code that reads families names none of its types — not in a
    /// signature, a field, a closure or a method body (read from the compiled host).</summary>
    [Fact]
    public void GenericCode_NamesNoDpuType()
    {
        string[] generic =
        [
            "NicScript.Host.Manifests.MachineFileParser", "NicScript.Host.Manifests.MachineSpec", "NicScript.Host.Manifests.MachineWiring",
            "NicScript.Host.Cli.CommandLine", "NicScript.Host.Cli.RunCommand", "NicScript.Host.Cli.RunOptions", "NicScript.Host.Cli.BenchCommand",
            "NicScript.Host.Capabilities.CapabilityBroker", "NicScript.Host.Capabilities.RunServices", "NicScript.Host.Runtime.VNodeRunner",
        ];
        string[] named = [.. AssemblyDependencies.Read(typeof(DeviceFamily).Assembly.Location, "NicScript.Host")
            .Where(d => d.Kind == DependencyKind.Type && generic.Contains(d.From) && d.To.Contains(".Dpu.", StringComparison.Ordinal))
            .Select(d => $"{d.From} -> {d.To}").Order()];
        Assert.Empty(named);
    }

    [Fact]
    public void All_NamesAreUniqueAndTheVirtioNetTypeComesFirst()
    {
        Assert.Equal(DeviceFamilies.All.Length, DeviceFamilies.All.Select(f => f.Name).Distinct().Count());
        Assert.Equal(DeviceFamilies.DeviceTypes.Length, DeviceFamilies.DeviceTypes.Select(t => t.Name).Distinct().Count());
        Assert.Equal(DeviceFamilies.Verbs.Length, DeviceFamilies.Verbs.Select(v => v.Name).Distinct().Count());
        Assert.Equal("virtio-net", DeviceFamilies.DeviceTypes[0].Name); // an unknown type's device is checked with its keys, as before
    }

    [Fact]
    public void CapabilityNames_KeepTheirOrder_CoreThenFamilies()
    {
        Assert.Equal(
            ["NetworkAccess", "CAP_HARDWARE_IO_PCI", "CAP_IRQ_REGISTER", "CAP_DMA_ALLOC", "CAP_MEM_SHARE", "CAP_SYSCALL_RAW", "CAP_LOG_WRITE", "CAP_RDMA", "CAP_DPU_ADMIN"],
            CapabilityNames.All);
    }
}
