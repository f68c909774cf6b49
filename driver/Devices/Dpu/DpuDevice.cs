using NicScript.Driver.Time;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Dpu;

/// <summary>The emulated DPU's sizes (reference/dpu.md §5.1); a machine file's <c>dpu</c> part may change any of them.</summary>
public sealed record DpuConfig
{
    public int ElasticNicSlots { get; init; } = 16;
    public int VdiskSlots { get; init; } = 16;
    public int MaxQpair { get; init; } = 16;
    public int MaxQueue { get; init; } = 16;
    public int MaxQueueDepth { get; init; } = 4096;
    public int MeterTable { get; init; } = 64;
    public int ClassifierTable { get; init; } = 256;
    public int SocPorts { get; init; } = 2;
    public int SocQueues { get; init; } = 1;
    public int OpticalPorts { get; init; } = 2;
    public uint OpticalSpeedMbps { get; init; } = 25_000;
    public int OpticalQueues { get; init; } = 4;
    public uint OpticalMtu { get; init; } = 1500;
    public ulong MaxSectors { get; init; } = 1UL << 32;
    public const uint MinMtu = 68, MaxMtu = 9216;
}

/// <summary>
/// The DPU's host-facing side: elastic NICs appear on the machine's PCI bus (modern virtio-net functions, 1af4:1041, with
/// <c>VirtioDpuFunctions</c>) on bus 1, device = vport, each on its own cable to the DPU's <see cref="DpuSwitch"/>; virtual
/// disks (virtio-blk functions, 1af4:1042) on bus 2, device = pvf_id, each over its own sparse backing file. Deleting either
/// hot-removes the function.
/// </summary>
/// <remarks>Design: the functions come from the <see cref="IDpuFunctionFactory"/> the DPU is given, so this family names
/// no NIC or disk family (they are families beside it, not layers below).</remarks>
public sealed class DpuDevice
{
    private readonly IDeviceHost _machine;
    private readonly IDpuFunctionFactory _functions;
    private readonly Dictionary<uint, IElasticNic> _nics = new();
    private readonly Dictionary<uint, IVdisk> _disks = new();

    /// <param name="clock">The meters' and the bond monitor's clock: the monotonic one unless a test steps time.</param>
    /// <param name="machine">Where the DPU's functions go: the machine's bus, interrupts, DMA memory and wires.</param>
    /// <param name="functions">What makes the elastic NICs' and the disks' functions.</param>
    public DpuDevice(IDeviceHost machine, DpuConfig config, IDpuFunctionFactory functions, IClock? clock = null)
    {
        _machine = machine;
        _functions = functions;
        Config = config;
        // SoC ports and optical ports are cables of the machine (a machine file may make one a TAP); the switch holds one end
        Link Wire(string name) => machine.Links.FirstOrDefault(l => l.Name == name) ?? machine.AddLink(Links.Pair(name));
        Switch = new DpuSwitch(config, clock ?? MonotonicClock.Instance,
            Enumerable.Range(0, config.SocPorts).Select(p => Wire($"dpu-soc{p}")).ToList(),
            Enumerable.Range(0, config.OpticalPorts).Select(p => Wire($"dpu-optical{p}")).ToList());
    }

    /// <summary>The switch every frame of the DPU goes through.</summary>
    public DpuSwitch Switch { get; }

    public DpuConfig Config { get; }

    public static PciAddress ElasticNicAddress(uint vport) => new(0, 1, (byte)vport, 0);

    /// <summary>Hot-adds the elastic NIC at <paramref name="vport"/>: <paramref name="maxQpair"/> queue pairs offered (of the
    /// machine's limit), <paramref name="features"/> offered as far as the model implements them; false when the address is taken.</summary>
    public bool AddElasticNic(uint vport, byte[] mac, uint mtu, uint maxQpair = 1, ulong? features = null)
    {
        PciAddress address = ElasticNicAddress(vport);
        if (_machine.Pci.TryGet(address, out _)) return false;
        IElasticNic nic = _functions.CreateElasticNic(address, _machine.Domain(address), _machine.Line(5), _machine.Events, mac,
            (ushort)Math.Min(mtu, ushort.MaxValue), (int)maxQpair, Math.Max(Config.MaxQpair, (int)maxQpair), features);
        if (!_machine.TryAdd(nic.Model)) return false;
        Switch.AddHost(vport, nic);
        lock (_nics) _nics[vport] = nic;
        return true;
    }

    public bool RemoveElasticNic(uint vport)
    {
        bool removed = _machine.TryRemove(ElasticNicAddress(vport));
        lock (_nics) _nics.Remove(vport);
        Switch.RemoveHost(vport);
        return removed;
    }

    /// <summary>SetPortCfg on a live function: new MTU and MAC in its config space (config interrupt when they changed); a
    /// new pair limit or feature set is offered from the next negotiation (DEVICE_NEEDS_RESET for a live driver).</summary>
    public bool ReconfigureElasticNic(uint vport, byte[] mac, uint mtu, uint? maxQpair = null, ulong? features = null)
    {
        IElasticNic? nic;
        lock (_nics) nic = _nics.GetValueOrDefault(vport);
        if (nic is null) return false;
        bool changed = nic.Reconfigure((ushort)Math.Min(mtu, ushort.MaxValue), mac);
        if (changed) Switch.HostMacChanged(vport);
        if (maxQpair is not null || features is not null) changed |= nic.Renegotiate((int)(maxQpair ?? (uint)nic.MaxPairs), features);
        return changed;
    }

    /// <summary>The function behind <paramref name="vport"/> (tests and the data path).</summary>
    public IElasticNic? ElasticNic(uint vport)
    {
        lock (_nics) return _nics.GetValueOrDefault(vport);
    }

    public bool HasElasticNic(uint vport) => _machine.Pci.TryGet(ElasticNicAddress(vport), out PciFunction f) && !f.Removed;

    public static PciAddress VdiskAddress(uint pvfId) => new(0, 2, (byte)pvfId, 0);

    /// <summary>Hot-adds the virtio-blk function of disk <paramref name="pvfId"/> over <paramref name="backingFile"/>:
    /// <paramref name="create"/> starts the file empty (a new disk), otherwise its data is kept (recovery). False when the
    /// address is taken.</summary>
    public bool AddVdisk(uint pvfId, string name, int maxQueue, int queueDepth, int msix, ulong sectors, string backingFile, bool create, bool paused)
    {
        PciAddress address = VdiskAddress(pvfId);
        if (_machine.Pci.TryGet(address, out _)) return false;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(backingFile))!);
        IVdisk disk = _functions.CreateVdisk(address, _machine.Domain(address), _machine.Line(6), _machine.Events, name, backingFile, create,
            sectors, maxQueue, (ushort)queueDepth, msix);
        if (paused) disk.Pause(true);
        if (!_machine.TryAdd(disk.Model))
        {
            disk.Dispose();
            return false;
        }
        lock (_disks) _disks[pvfId] = disk;
        return true;
    }

    /// <summary>Hot-removes disk <paramref name="pvfId"/>'s function; with <paramref name="deleteData"/> its backing file goes too.</summary>
    public bool RemoveVdisk(uint pvfId, bool deleteData)
    {
        bool removed = _machine.TryRemove(VdiskAddress(pvfId));
        IVdisk? disk;
        lock (_disks) _disks.Remove(pvfId, out disk);
        if (disk is null) return removed;
        disk.Dispose();
        if (deleteData) File.Delete(disk.BackingFile);
        return removed;
    }

    /// <summary>The function behind disk <paramref name="pvfId"/>, or null.</summary>
    public IVdisk? Vdisk(uint pvfId)
    {
        lock (_disks) return _disks.GetValueOrDefault(pvfId);
    }
}
