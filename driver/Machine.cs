using NicScript.Driver.Devices;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver;

/// <summary>The world a run sees: DMA memory, the PCI bus, the interrupt numbers, the wires and the device models on them.</summary>
/// <remarks>
/// Composes the parts and numbers the interrupts; each part owns its own rules (DESIGN §1, STYLE §11). The machine knows
/// devices only through <see cref="IDeviceModel"/>: <see cref="Add{T}"/> places one, hot-removal goes through its
/// <see cref="IDeviceModel.HotRemove"/>; which families make the default machine is <see cref="DefaultMachine"/>'s.
/// Interrupt numbers: INTx lines keep their line number (0–31); MSI-X vectors get machine numbers from 32 up, in the order
/// their functions are added — what <c>CAP_IRQ_REGISTER</c> grants and <c>nicscript machine show</c> lists.
/// </remarks>
public sealed class Machine : IDeviceHost, IDisposable
{
    public const int FirstVectorNumber = 32;

    private readonly Dictionary<int, Interrupt> _interrupts = new();
    private readonly List<Link> _links = new();
    private readonly List<IDeviceModel> _devices = new();
    private readonly List<(MsixTable Table, int First)> _numbered = new();
    private readonly Dictionary<PciAddress, GuestMemory> _guests = new();
    private int _nextVector = FirstVectorNumber;

    public Machine(string name = "default", IDeviceEvents? events = null)
    {
        Name = name;
        Events = events ?? NoDeviceEvents.Instance;
        Dma = new DmaMemory();
        Pci = new PciBus();
        NetDevices = new NetDevice.NetDeviceRegistry(this);
        Rdma = new Devices.Rdma.RdmaFabric(Dma);
        Pci.Removed += OnRemoved;
    }

    public string Name { get; }

    public IDeviceEvents Events { get; }

    public DmaMemory Dma { get; }

    /// <summary>A new IOMMU domain over the machine's DMA memory for the function at <paramref name="address"/>, or, for a
    /// function exported to a guest, the guest's memory.</summary>
    public IommuDomain Domain(PciAddress address)
    {
        lock (_guests)
            if (_guests.TryGetValue(address, out GuestMemory? guest)) return guest.Domain;
        return new(Dma, address.ToString(), Events);
    }

    /// <summary>Gives the function at <paramref name="address"/> to a guest over vfio-user: the device model made there from
    /// now on (by a machine file, the default machine, or a family that places its own functions: a PF's VFs, a DPU's
    /// elastic NICs) reaches the guest's RAM, as the guest maps it, instead of the machine's DMA memory.</summary>
    /// <remarks>Design: every family already makes its device with <see cref="Domain"/>, so handing that call the guest's
    /// domain is the whole change for them — no family knows a guest exists. The returned memory is what the function's
    /// <see cref="VfioUserServer"/> maps the client's <c>DMA_MAP</c> fds into; the machine disposes it.</remarks>
    public GuestMemory ExportToGuest(PciAddress address)
    {
        lock (_guests)
        {
            if (!_guests.TryGetValue(address, out GuestMemory? guest)) _guests[address] = guest = new GuestMemory(address.ToString(), Events);
            return guest;
        }
    }

    /// <summary>The RDMA devices of the machine's hosts and their virtual clock (reference/rdma.md).</summary>
    public Devices.Rdma.RdmaFabric Rdma { get; }

    /// <summary>The Fuchsia-style netdevice of each network function (reference/netdevice.md), made on first use.</summary>
    public NetDevice.NetDeviceRegistry NetDevices { get; }

    public PciBus Pci { get; }

    public IReadOnlyDictionary<int, Interrupt> Interrupts => _interrupts;

    public IReadOnlyList<Link> Links => _links;

    /// <summary>The device models on the bus now, in the order they were added (a hot-removed one leaves the list).</summary>
    public IReadOnlyList<IDeviceModel> Devices
    {
        get { lock (_devices) return _devices.ToArray(); }
    }

    /// <summary>The device model of <paramref name="function"/>, or null (a bare function, or one not on this machine).</summary>
    public IDeviceModel? DeviceOf(PciFunction function)
    {
        lock (_devices) return _devices.Find(d => d.Function == function);
    }

    /// <summary>Places <paramref name="device"/> on the bus, numbers its MSI-X vectors and plugs a NIC into <paramref name="wire"/>.</summary>
    /// <exception cref="ArgumentException">Its PCI address is taken, or a wire was given for a device that is not a NIC.</exception>
    public T Add<T>(T device, Link? wire = null) where T : IDeviceModel
    {
        if (!TryAdd(device, wire)) throw new ArgumentException($"PCI address {device.Function.Address} is taken", nameof(device));
        return device;
    }

    public bool TryAdd(IDeviceModel device, Link? wire = null)
    {
        if (wire is not null && device is not INicModel) throw new ArgumentException($"{device.Kind} {device.Function.Address} has no wire port", nameof(wire));
        if (!Pci.TryAdd(device.Function)) return false;
        Adopt(device, wire, numberVectors: true);
        return true;
    }

    public void Adopt(IDeviceModel device, Link? wire, bool numberVectors)
    {
        if (numberVectors && device.Msix is { } table) NumberVectors(table);
        if (wire is not null) ((INicModel)device).Connect(wire);
        lock (_devices) _devices.Add(device);
        DeviceAdded?.Invoke(device);
    }

    /// <summary>A device model joined the machine (<see cref="Devices"/> lists it already): placed at the start, or while
    /// the machine runs by a family that places functions itself (a DPU's elastic NIC or vdisk, a PF's re-enabled VF).</summary>
    /// <remarks>Raised on the thread that placed it (a DPU agent's, a driver's config write); a handler must not throw.</remarks>
    public event Action<IDeviceModel>? DeviceAdded;

    /// <summary>A device model left the machine: its function was hot-removed and its <see cref="IDeviceModel.HotRemove"/> ran.</summary>
    public event Action<IDeviceModel>? DeviceRemoved;

    public bool TryRemove(PciAddress address) => Pci.TryRemove(address, out _);

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
    private int NumberVectors(MsixTable table)
    {
        lock (_interrupts)
        {
            int first = _nextVector;
            for (int v = 0; v < table.Count; v++) _interrupts[_nextVector++] = table.Vector(v);
            _numbered.Add((table, first));
            return first;
        }
    }

    /// <summary>A function left the bus: its device model is told and leaves the list, its vectors leave the machine's interrupts.</summary>
    private void OnRemoved(PciFunction removed)
    {
        IDeviceModel? device;
        lock (_devices)
        {
            int at = _devices.FindIndex(d => d.Function == removed);
            device = at < 0 ? null : _devices[at];
            if (at >= 0) _devices.RemoveAt(at);
        }
        device?.HotRemove();
        ReleaseVectors(removed);
        if (device is not null) DeviceRemoved?.Invoke(device);
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

    public void Dispose()
    {
        foreach (Link link in _links) link.Dispose();
        lock (_guests)
            foreach (GuestMemory guest in _guests.Values) guest.Dispose();
        Dma.Dispose();
    }
}
