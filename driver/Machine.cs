using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver;

/// <summary>The world a run sees: DMA memory, the PCI bus, the interrupt numbers, the wires and the devices on them.</summary>
/// <remarks>
/// Composes the parts and numbers the interrupts; each part owns its own rules (DESIGN §1, STYLE §11). Interrupt
/// numbers: INTx lines keep their line number (0–31); MSI-X vectors get machine numbers from 32 up, in the order
/// their functions are added — what <c>CAP_IRQ_REGISTER</c> grants and <c>nicscript machine show</c> lists.
/// </remarks>
public sealed class Machine : IDisposable
{
    public const int FirstVectorNumber = 32;

    private readonly Dictionary<int, Interrupt> _interrupts = new();
    private readonly List<Link> _links = new();
    private readonly List<VirtioNetDevice> _virtioNets = new();
    private readonly List<ManaDevice> _manas = new();
    private readonly List<(MsixTable Table, int First)> _numbered = new();
    private int _nextVector = FirstVectorNumber;

    public Machine(string name = "default", IDeviceEvents? events = null)
    {
        Name = name;
        Events = events ?? NoDeviceEvents.Instance;
        Dma = new DmaMemory();
        Pci = new PciBus();
        NetDevices = new NetDevice.NetDeviceRegistry(this);
        Rdma = new Devices.Rdma.RdmaFabric(Dma);
        Pci.Removed += f => _manas.FirstOrDefault(m => m.Function == f)?.HotRemove();
        Pci.Removed += ReleaseVectors;
    }

    public string Name { get; }

    public IDeviceEvents Events { get; }

    public DmaMemory Dma { get; }

    /// <summary>The RDMA devices of the machine's hosts and their virtual clock (reference/rdma.md).</summary>
    public Devices.Rdma.RdmaFabric Rdma { get; }

    /// <summary>The default machine's RDMA device: on the virtio-net at 00:1f.0, GID ::ffff:192.0.2.1.</summary>
    public static readonly System.Net.IPAddress DefaultRdmaAddress = System.Net.IPAddress.Parse("192.0.2.1");

    /// <summary>The Fuchsia-style netdevice of each network function (reference/netdevice.md), made on first use.</summary>
    public NetDevice.NetDeviceRegistry NetDevices { get; }

    public PciBus Pci { get; }

    public IReadOnlyDictionary<int, Interrupt> Interrupts => _interrupts;

    public IReadOnlyList<Link> Links => _links;

    public IReadOnlyList<VirtioNetDevice> VirtioNets => _virtioNets;

    /// <summary>MANA VFs on the bus now or before (a hot-removed VF stays listed, removed).</summary>
    public IReadOnlyList<ManaDevice> Manas => _manas;

    /// <summary>The MANA VF of the default machine: PF at 00:1e.0 with SR-IOV, VF 0 at 00:1e.1.</summary>
    public static readonly PciAddress DefaultManaPf = new(0, 0, 0x1e, 0), DefaultManaVf = new(0, 0, 0x1e, 1);

    /// <summary>
    /// The default machine: virtio-net at 00:1f.0, INTx line 11, on a loopback wire (or <paramref name="wire"/>); a MANA
    /// PF at 00:1e.0 whose SR-IOV VF 0 sits at 00:1e.1 (MSI-X vectors after virtio-net's) on its own loopback wire.
    /// </summary>
    public static Machine CreateDefault(IDeviceEvents? events = null, Link? wire = null)
    {
        var machine = new Machine("default", events);
        wire = machine.AddLink(wire ?? Wire.Links.Loopback("loopback"));
        VirtioNetDevice nic = machine.AddVirtioNet(new PciAddress(0, 0, 0x1f, 0), 11, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], wire);
        machine.Rdma.Attach(nic, DefaultRdmaAddress);
        Link manaWire = machine.AddLink(Wire.Links.Loopback("mana-loopback"));
        machine.AddManaPf(DefaultManaPf, [0x00, 0x15, 0x5d, 0x00, 0x00, 0x01], manaWire, enableVfs: 1);
        return machine;
    }

    /// <summary>
    /// Places a MANA PF (1414:00b9, configuration space and SR-IOV only) whose VFs are emulated MANA VFs plugged into
    /// <paramref name="wire"/>; enables <paramref name="enableVfs"/> of them now, as a hypervisor would. Clearing VF Enable
    /// in the PF's SR-IOV control hot-removes them.
    /// </summary>
    public SriovCapability AddManaPf(PciAddress address, byte[] mac, Link wire, int enableVfs)
    {
        var config = new ConfigSpace(ManaRegisters.VendorId, ManaRegisters.PfDeviceId, 0x020000);
        var pf = new PciFunction(address, config, "Microsoft Corporation MANA Physical Function");
        if (!Pci.TryAdd(pf)) throw new ArgumentException($"PCI address {address} is taken", nameof(address));
        ManaDevice? made = null;
        var sriov = new SriovCapability(pf, Pci, totalVfs: 1, firstOffset: 1, stride: 1, ManaRegisters.VfDeviceId, (vfAddress, index) =>
        {
            if (made is not null)
            {
                made.Revive(); // re-enabled: the same function comes back, reset, with the same vectors and wire port
                return made.Function;
            }
            var vf = made = new ManaDevice(vfAddress, Dma, mac, Events);
            NumberVectors(vf.Msix);
            vf.Connect(wire);
            _manas.Add(vf);
            return vf.Function;
        });
        if (enableVfs > 0)
        {
            config.Write(SriovCapability.NumVfs, 2, (uint)enableVfs);
            config.Write(SriovCapability.Control, 2, 0x0009);
        }
        return sriov;
    }

    /// <summary>The INTx line <paramref name="number"/> (0–31), made on first use.</summary>
    public IrqLine Line(int number)
    {
        if (number is < 0 or >= FirstVectorNumber) throw new ArgumentOutOfRangeException(nameof(number), "INTx lines are 0-31");
        if (_interrupts.TryGetValue(number, out Interrupt? i)) return i as IrqLine ?? throw new InvalidOperationException($"interrupt {number} is not a line");
        var line = new IrqLine(number);
        _interrupts[number] = line;
        return line;
    }

    /// <summary>Gives every vector of <paramref name="table"/> a machine interrupt number; returns the first.</summary>
    public int NumberVectors(MsixTable table)
    {
        lock (_interrupts)
        {
            int first = _nextVector;
            for (int v = 0; v < table.Count; v++) _interrupts[_nextVector++] = table.Vector(v);
            _numbered.Add((table, first));
            return first;
        }
    }

    /// <summary>A hot-removed function's vectors leave the machine's interrupts: a vector holds its table and, through it, the
    /// whole device, so keeping them kept every removed function alive (the DPU agent grew ~85 KB per NewPort+DelPort).</summary>
    private void ReleaseVectors(PciFunction removed)
    {
        lock (_interrupts)
        {
            for (int i = _numbered.Count - 1; i >= 0; i--)
            {
                var (table, first) = _numbered[i];
                if (table.Function != removed) continue;
                for (int v = 0; v < table.Count; v++) _interrupts.Remove(first + v);
                _numbered.RemoveAt(i);
            }
        }
    }

    public Link AddLink(Link link)
    {
        if (_links.Any(l => l.Name == link.Name)) throw new ArgumentException($"a wire named {link.Name} exists", nameof(link));
        _links.Add(link);
        return link;
    }

    /// <summary>Places a virtio-net function at <paramref name="address"/> on INTx <paramref name="line"/>, plugged into <paramref name="wire"/>.</summary>
    public VirtioNetDevice AddVirtioNet(PciAddress address, int line, byte[] mac, Link wire)
    {
        var device = new VirtioNetDevice(address, Dma, Line(line), mac, Events);
        if (!Pci.TryAdd(device.Function)) throw new ArgumentException($"PCI address {address} is taken", nameof(address));
        NumberVectors(device.Msix);
        device.Connect(wire);
        _virtioNets.Add(device);
        return device;
    }

    public void Dispose()
    {
        foreach (Link link in _links) link.Dispose();
        Dma.Dispose();
    }
}
