using System.CommandLine;
using System.Text.Json.Nodes;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Pci;
using NicScript.Host.Families;
using NicScript.Host.Guests;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript machine show</c>: an lspci-like listing of a machine — functions, interrupts, wires, the functions
/// its file gives to guests over vfio-user, and where its families place functions while it runs.</summary>
/// <remarks>Design: it builds the machine a file describes, in this process; a running machine is another process, so
/// whether a guest is connected to an export is shown where that machine lives (the REPL's <c>.devices</c> and
/// <c>.stats</c>, the lines a run prints as exports come and go and at its end), not here.</remarks>
public sealed class MachineCommand
{
    private readonly CliContext _cli;

    public MachineCommand(CliContext cli) => _cli = cli;

    public static Command Build(CliContext cli)
    {
        var file = new Option<string?>("--machine") { Description = "A machine file; the default machine when omitted." };
        var json = new Option<bool>("--json") { Description = "Print the machine as one JSON object." };
        var show = new Command("show", """
            List the machine's PCI functions (as lspci does), their interrupts and the wires, the functions the machine file
            gives to guests (vfio-user), and where functions are placed while the machine runs (a DPU's elastic NICs, vdisks).

            Examples:
              nicscript machine show
              nicscript machine show --machine manifests/machines/two-nics.yml --json
            """)
        { file, json };
        show.SetAction(p => new MachineCommand(cli).Show(p.GetValue(file), p.GetValue(json)));
        return new Command("machine", "Inspect machines.") { show };
    }

    public int Show(string? file, bool json)
    {
        MachineSpec? spec = file is null ? null : MachineFileParser.Load(file);
        if (spec?.Wires.Any(w => w.Type == "tap") == true) throw new UserErrorException($"{file}: machine show does not open TAP devices; run it to use them");
        var (machine, owned) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
        using (machine)
        {
            var functions = new JsonArray();
            foreach (PciFunction f in machine.Pci.Functions)
            {
                var (line, vectors) = Interrupts(machine, f);
                string wire = machine.DeviceOf(f)?.Port?.Link.Name ?? "-";
                // the machine file's vfio-user key: a path, or "" for the socket a run makes in its own folder
                string? vfioUser = spec?.Devices.FirstOrDefault(d => d.Address == f.Address)?.VfioUser;
                string exported = vfioUser is null ? "" : $", vfio-user {(vfioUser.Length == 0 ? $"{Path.Combine(ExportSockets.Root, "PID", ExportSockets.FileName(f.Address))} (the run's)" : vfioUser)}";
                if (!json)
                    _cli.OutputText.WriteLine($"{f.Address.Short} Ethernet controller [{f.ClassCode >> 8:x4}]: {f.Description} [{f.VendorId:x4}:{f.DeviceId:x4}] " +
                        $"(subsystem {f.Config.Read16(ConfigSpace.SubsystemVendorId):x4}:{f.Config.Read16(ConfigSpace.SubsystemId):x4}) irq {line}, msi-x {vectors}, wire {wire}{exported}");
                functions.Add(new JsonObject
                {
                    ["address"] = f.Address.ToString(), ["vendor"] = $"{f.VendorId:x4}", ["device"] = $"{f.DeviceId:x4}",
                    ["class"] = $"{f.ClassCode:x6}", ["description"] = f.Description, ["irq"] = line, ["msix"] = vectors, ["wire"] = wire,
                    ["vfio_user"] = vfioUser is null ? null : vfioUser.Length == 0 ? "run" : vfioUser,
                    ["bars"] = new JsonArray(Enumerable.Range(0, 6).Select(i => f.Bar(i)).OfType<PciBar>()
                        .Select(b => (JsonNode)new JsonObject { ["index"] = b.Index, ["kind"] = b.Kind.ToString(), ["size"] = b.Size }).ToArray()),
                });
            }
            var wires = new JsonArray(machine.Links.Select(l => (JsonNode)new JsonObject { ["name"] = l.Name, ["ports"] = l.Ports.Count }).ToArray());
            List<HotAddSlots> later = [.. DeviceFamilies.All.SelectMany(family => family.HotAddSlots(spec))];
            var hotAdd = new JsonArray(later.Select(s => (JsonNode)new JsonObject
            {
                ["what"] = s.What, ["first"] = new PciAddress(0, s.Bus, 0, 0).ToString(), ["last"] = new PciAddress(0, s.Bus, (byte)(s.Count - 1), 0).ToString(),
            }).ToArray());
            if (json) _cli.OutputText.WriteLine(CliJson.Text(new JsonObject { ["machine"] = machine.Name, ["functions"] = functions, ["wires"] = wires, ["hot_add"] = hotAdd }));
            else
            {
                foreach (var l in machine.Links) _cli.OutputText.WriteLine($"wire {l.Name}: {l.Ports.Count} port(s)");
                foreach (HotAddSlots s in later) _cli.OutputText.WriteLine($"hot-add: {s} (run --export waits for them)");
            }
        }
        foreach (IDisposable d in owned) d.Dispose();
        return 0;
    }

    private static (int Line, string Vectors) Interrupts(Machine machine, PciFunction f)
    {
        int line = (int)f.Config.Read(ConfigSpace.InterruptLine, 1);
        MsixTable? table = machine.DeviceOf(f)?.Msix;
        var numbers = machine.Interrupts.Where(kv => kv.Value is MsixVector v && table is not null && v.Number < table.Count && table.Vector(v.Number) == v)
            .Select(kv => kv.Key).Order().ToArray();
        return (line, numbers.Length == 0 ? "-" : $"{numbers[0]}-{numbers[^1]}");
    }
}
