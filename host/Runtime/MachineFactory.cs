using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Wire;
using NicScript.Host.Manifests;

namespace NicScript.Host.Runtime;

/// <summary>Builds the machine a run uses: the default one or a machine file's, with the command line's wire, capture and faults.</summary>
public static class MachineFactory
{
    /// <param name="wire"><c>loopback</c> or <c>tap:NAME</c>: replaces the default machine's wire.</param>
    /// <param name="pcap">Captures the first wire to this file.</param>
    /// <exception cref="UserErrorException">A bad option, or a TAP device that cannot be made.</exception>
    public static (Machine Machine, IReadOnlyList<IDisposable> Owned) Build(MachineSpec? spec, string? wire, string? pcap, FaultSettings? faults, IDeviceEvents events)
    {
        var owned = new List<IDisposable>();
        Machine machine;
        if (spec is null)
        {
            machine = Machine.CreateDefault(events, MakeWire("default", wire ?? "loopback"));
        }
        else
        {
            if (wire is not null) throw new UserErrorException("--wire applies to the default machine; a machine file names its own wires");
            machine = new Machine(spec.Name, events);
            foreach (WireSpec w in spec.Wires)
            {
                Link link = w.Type switch
                {
                    "loopback" => Links.Loopback(w.Name),
                    "pair" => Links.Pair(w.Name),
                    "switch" => Links.Switch(w.Name, w.Ports),
                    _ => OpenTap(w.IfName!, w.At.ToString()),
                };
                machine.AddLink(link);
                if (w.Faults is { IsNone: false } f) link.InjectFaults(new FaultInjector(f));
                if (w.PcapPath is { } p) owned.Add(Capture(link, p));
            }
            foreach (DeviceSpec d in spec.Devices)
            {
                var function = machine.AddVirtioNet(d.Address, d.Irq, d.Mac, machine.Links.First(l => l.Name == d.Wire));
                if (d.NetDevice is { } nic) machine.NetDevices.Configure(d.Address, nic);
                if (d.Rdma && d.Ipv4 is { } ip) machine.Rdma.Attach(function, ip);
            }
        }
        Link first = machine.Links[0];
        if (faults is { IsNone: false }) first.InjectFaults(new FaultInjector(faults));
        if (pcap is not null) owned.Add(Capture(first, pcap));
        return (machine, owned);
    }

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

    private static PcapWriter Capture(Link link, string path)
    {
        PcapWriter writer;
        try
        {
            writer = PcapWriter.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"{path}: cannot write the capture: {e.Message}");
        }
        link.Capture(writer);
        return writer;
    }
}
