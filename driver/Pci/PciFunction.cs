using NicScript.Driver.Memory;

namespace NicScript.Driver.Pci;

/// <summary>One function on the bus at a bus:device.function address: its configuration space, BARs and capabilities.</summary>
/// <remarks>
/// BAR sizing works as on hardware: the address bits below the BAR's size are read-only zeros, so writing all ones
/// and reading back gives the size mask with the flag bits. Register access through a BAR needs the Command
/// register's memory (or I/O) space bit, as a real function does; without it reads are all ones and writes vanish.
/// </remarks>
public class PciFunction
{
    private readonly PciBar?[] _bars = new PciBar?[6];
    private int _nextCapability = 0x40;

    /// <param name="dma">The function's IOMMU domain when its device does DMA (bus master); null for one that does none.</param>
    public PciFunction(PciAddress address, ConfigSpace config, string description, IommuDomain? dma = null)
    {
        Address = address;
        Config = config;
        Description = description;
        Dma = dma;
    }

    /// <summary>What the function's device may reach in DMA memory; a driver attaches the owner it gives the device memory of.</summary>
    public IommuDomain? Dma { get; }

    /// <summary>BARs by index (null where there is none; index+1 of a 64-bit BAR holds its upper half).</summary>
    public PciBar? Bar(int index) => index is >= 0 and < 6 ? _bars[index] : null;

    /// <summary>Device side: places a BAR. Sizes are powers of two (at least 16 bytes for memory, 4 for I/O).</summary>
    public void AddBar(PciBar bar)
    {
        if (bar.Size < (bar.Kind == PciBarKind.Io ? 4u : 16u) || (bar.Size & (bar.Size - 1)) != 0)
            throw new ArgumentException("BAR size must be a power of two", nameof(bar));
        int offset = ConfigSpace.Bar0 + 4 * bar.Index;
        _bars[bar.Index] = bar;
        Config.Set(offset, 4, bar.Flags);
        uint flagMask = bar.Kind == PciBarKind.Io ? 0x3u : 0xFu;
        Config.SetWritable(offset, 4, ~(bar.Size - 1) & ~flagMask);
        if (bar.Kind == PciBarKind.Memory64) Config.SetWritable(offset + 4, 4, 0xFFFF_FFFF);
    }

    /// <summary>The address the driver programmed into a BAR.</summary>
    public ulong BarAddress(int index)
    {
        if (_bars[index] is not { } bar) return 0;
        ulong lo = Config.Read32(ConfigSpace.Bar0 + 4 * index) & ~(bar.Kind == PciBarKind.Io ? 0x3ul : 0xFul);
        return bar.Kind == PciBarKind.Memory64 ? lo | ((ulong)Config.Read32(ConfigSpace.Bar0 + 4 * index + 4) << 32) : lo;
    }

    /// <summary>Device side: appends a capability to the list (the Status register's list bit is set); returns its offset.</summary>
    public int AddCapability(byte id, ReadOnlySpan<byte> body)
    {
        int at = _nextCapability;
        int length = (2 + body.Length + 3) & ~3;
        if (at + length > 0x100) throw new InvalidOperationException("no room for another capability");
        Config.Set(at, 1, id);
        Config.Set(at + 1, 1, 0);
        for (int i = 0; i < body.Length; i++) Config.Set(at + 2 + i, 1, body[i]);
        if (at == 0x40)
        {
            Config.Set(ConfigSpace.CapabilitiesPointer, 1, (uint)at);
            Config.Set(ConfigSpace.Status, 2, Config.Read16(ConfigSpace.Status) | 0x10u);
        }
        else
        {
            int prev = Config.Read(ConfigSpace.CapabilitiesPointer, 1) is var p ? (int)p : 0;
            while (Config.Read(prev + 1, 1) is var next && next != 0) prev = (int)next;
            Config.Set(prev + 1, 1, (uint)at);
        }
        _nextCapability = at + length;
        return at;
    }

    /// <summary>Offsets of every capability with <paramref name="id"/>, walking the list as a driver does.</summary>
    public IEnumerable<int> FindCapabilities(byte id)
    {
        if ((Config.Read16(ConfigSpace.Status) & 0x10) == 0) yield break;
        int at = (int)Config.Read(ConfigSpace.CapabilitiesPointer, 1);
        for (int hops = 0; at != 0 && hops < 48; hops++, at = (int)Config.Read(at + 1, 1))
            if (Config.Read(at, 1) == id) yield return at;
    }

    /// <summary>A driver's read through a BAR.</summary>
    public ulong ReadBar(int index, int offset, int size)
    {
        if (!Decodes(index, offset, size, out PciBar? bar)) return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        return bar!.Registers.Read(offset, size);
    }

    /// <summary>A driver's write through a BAR.</summary>
    public void WriteBar(int index, int offset, int size, ulong value)
    {
        if (Decodes(index, offset, size, out PciBar? bar)) bar!.Registers.Write(offset, size, value);
    }

    private bool Decodes(int index, int offset, int size, out PciBar? bar)
    {
        bar = Bar(index);
        if (bar is null || Removed || size is not (1 or 2 or 4 or 8) || offset < 0 || (uint)(offset + size) > bar.Size) return false;
        ushort command = Config.Read16(ConfigSpace.Command);
        return (command & (bar.Kind == PciBarKind.Io ? 0x1 : 0x2)) != 0;
    }

    public PciAddress Address { get; }

    public ConfigSpace Config { get; }

    /// <summary>What lspci would print after the class, e.g. <c>Red Hat, Inc. Virtio network device</c>.</summary>
    public string Description { get; }

    public ushort VendorId => Config.Read16(ConfigSpace.VendorId);

    public ushort DeviceId => Config.Read16(ConfigSpace.DeviceId);

    /// <summary>Base class, subclass and programming interface, e.g. <c>0x020000</c> for an Ethernet controller.</summary>
    public uint ClassCode => Config.Read32(ConfigSpace.RevisionId) >> 8;

    /// <summary>True once hot-removed: every handle to it fails from then on.</summary>
    public bool Removed { get; internal set; }

    public override string ToString() => $"{Address.Short} [{ClassCode:x6}] {VendorId:x4}:{DeviceId:x4} {Description}";
}
