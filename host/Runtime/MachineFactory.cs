using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;
using NicScript.Host.Families;
using NicScript.Host.Manifests;

namespace NicScript.Host.Runtime;

/// <summary>Builds the machine a run uses: the default one or a machine file's, with the command line's wire, capture and faults.</summary>
public static class MachineFactory
{
    /// <param name="wire"><c>loopback</c> or <c>tap:NAME</c>: replaces the default machine's wire.</param>
    /// <param name="pcap">Captures the first wire to this file.</param>
    /// <exception cref="UserErrorException">A bad option, or a TAP device that cannot be made.</exception>
    /// <remarks>
    /// Design: a machine file is validated so that everything it accepts can be built (<see cref="MachineFileParser"/>).
    /// Should the driver still refuse a part (a rule the file check does not know yet), that refusal is the file's problem,
    /// reported at the wire or device it came from as one line; what was built so far is disposed, nothing leaks.
    /// Each device is placed by its family's device type (<see cref="DeviceFamilies"/>); the default machine is the driver's.
    /// </remarks>
    /// <param name="exports">Functions given to a guest over vfio-user (<c>--export</c>): each is made on the guest's memory.</param>
    public static (Machine Machine, IReadOnlyList<IDisposable> Owned) Build(MachineSpec? spec, string? wire, string? pcap, FaultSettings? faults, IDeviceEvents events,
        IReadOnlyList<PciAddress>? exports = null)
    {
        var owned = new List<IDisposable>();
        Machine? machine = null;
        try
        {
            if (spec is null)
            {
                machine = DefaultMachine.Create(events, MakeWire("default", wire ?? "loopback"), exports);
            }
            else
            {
                if (wire is not null) throw new UserErrorException("--wire applies to the default machine; a machine file names its own wires");
                if (spec.Wires.IsEmpty) throw new UserErrorException($"{spec.Path}: a machine needs at least one wire");
                machine = new Machine(spec.Name, events);
                foreach (PciAddress address in exports ?? []) machine.ExportToGuest(address);
                foreach (WireSpec w in spec.Wires)
                {
                    Link link = w.Type switch
                    {
                        "loopback" => Links.Loopback(w.Name),
                        "pair" => Links.Pair(w.Name),
                        "switch" => Links.Switch(w.Name, w.Ports),
                        _ => OpenTap(w.IfName!, w.At.ToString()),
                    };
                    Refused(w.At, () => machine.AddLink(link), link);
                    if (w.Faults is { IsNone: false } f) link.InjectFaults(new FaultInjector(f));
                    if (w.PcapPath is { } p) owned.Add(Capture(link, p, w.At.ToString()));
                }
                foreach (DeviceSpec d in spec.Devices)
                {
                    Link? on = machine.Links.FirstOrDefault(l => l.Name == d.Wire) ?? throw new UserErrorException($"{d.At}: wire '{d.Wire}' is not defined in wires");
                    MachineDeviceType type = DeviceFamilies.DeviceType(d.Type) ?? throw new UserErrorException($"{d.At}: device type '{d.Type}' is not known");
                    Refused(d.At, () => type.Place(machine, d, on));
                }
            }
            Link first = machine.Links[0];
            if (faults is { IsNone: false }) first.InjectFaults(new FaultInjector(faults));
            if (pcap is not null) owned.Add(Capture(first, pcap, "--pcap"));
            return (machine, owned);
        }
        catch
        {
            machine?.Dispose();
            foreach (IDisposable d in owned) d.Dispose();
            throw;
        }
    }

    /// <summary>Runs one build step; the driver's refusal of it (ArgumentException, InvalidOperationException) becomes the line at <paramref name="at"/>.</summary>
    private static void Refused(SourceSpan at, Action step, IDisposable? orphan = null)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            orphan?.Dispose();
            throw new UserErrorException($"{at}: {e.Message}", e);
        }
    }

    /// <summary>What is wrong with a <c>--wire</c> value (<c>loopback</c> or <c>tap:NAME</c>), or null; checked before any wire is made.</summary>
    public static string? WireProblem(string wire) =>
        wire == "loopback" ? null
        : wire.StartsWith("tap:", StringComparison.Ordinal) ? MachineFileParser.InterfaceNameProblem(wire[4..])
        : "not a wire (expected loopback or tap:NAME)";

    private static Link MakeWire(string name, string wire)
    {
        if (wire == "loopback") return Links.Loopback("loopback");
        if (wire == "peer") return Links.Pair("peer"); // the NIC on one end, the built-in peer on the other
        if (wire.StartsWith("tap:", StringComparison.Ordinal)) return OpenTap(wire[4..], "--wire");
        throw new UserErrorException($"--wire: '{wire}' is not a wire (expected loopback or tap:NAME)");
    }

    private static Link OpenTap(string ifname, string where)
    {
        try
        {
            return Links.Tap(ifname);
        }
        catch (TapException e)
        {
            throw new UserErrorException($"{where}: {e.Message}");
        }
    }

    private static PcapWriter Capture(Link link, string path, string where)
    {
        PcapWriter writer;
        try
        {
            writer = PcapWriter.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"{where}: {path}: cannot write the capture: {e.Message}");
        }
        link.Capture(writer);
        return writer;
    }
}
