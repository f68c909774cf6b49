
namespace NicScript.Driver.NetDevice;

/// <summary>One port's MAC filter across its clients: the least restrictive mode wins, multicast lists are merged (reference ND-72…79).</summary>
internal sealed class MacFilter
{
    private readonly PortConfig _config;
    private readonly List<byte[]> _effectiveList = new();

    public MacFilter(PortConfig config)
    {
        _config = config;
        Address = config.Mac!;
        DefaultMode = config.MacModes.Min();
        Mode = DefaultMode;
    }

    public byte[] Address { get; }
    public MacFilterMode DefaultMode { get; }
    public MacFilterMode Mode { get; private set; }
    public List<MacAddressing> Clients { get; } = new();

    public MacState State => new(Mode, _effectiveList.Select(Format).ToArray());

    /// <summary>The supported mode at least as permissive as <paramref name="wanted"/>, or null.</summary>
    public MacFilterMode? Resolve(MacFilterMode wanted)
    {
        MacFilterMode? best = null;
        foreach (MacFilterMode m in _config.MacModes)
            if (m >= wanted && (best is null || m < best)) best = m;
        return best;
    }

    public void Consolidate()
    {
        MacFilterMode mode = DefaultMode;
        if (Clients.Count > 0) mode = Clients.Max(c => c.Mode ?? DefaultMode);
        _effectiveList.Clear();
        if (mode == MacFilterMode.MULTICAST_FILTER)
        {
            foreach (MacAddressing c in Clients)
                foreach (byte[] a in c.Multicast)
                    if (!_effectiveList.Any(x => x.AsSpan().SequenceEqual(a))) _effectiveList.Add(a);
            if (_effectiveList.Count > _config.MulticastFilterCount)
            {
                _effectiveList.Clear();
                mode = Resolve(MacFilterMode.MULTICAST_PROMISCUOUS) ?? mode;
            }
        }
        Mode = mode;
    }

    /// <summary>Whether a frame to <paramref name="destination"/> passes the effective filter (broadcast always does in MULTICAST_FILTER).</summary>
    public bool Accepts(ReadOnlySpan<byte> destination)
    {
        if (Mode == MacFilterMode.PROMISCUOUS) return true;
        if ((destination[0] & 1) == 0) return destination.SequenceEqual(Address);
        if (Mode == MacFilterMode.MULTICAST_PROMISCUOUS) return true;
        if (destination.IndexOfAnyExcept((byte)0xFF) < 0) return true;
        foreach (byte[] a in _effectiveList)
            if (destination.SequenceEqual(a)) return true;
        return false;
    }

    public static string Format(byte[] mac) => Wire.MacAddress.Format(mac);

    /// <summary>A multicast address as text (<c>01:00:5e:00:00:01</c>); null when it is not one.</summary>
    public static byte[]? Parse(string address) => Wire.MacAddress.TryParse(address, out byte[] mac) ? mac : null;
}

/// <summary>A client of a port's MAC filter: its own mode and multicast list; statuses are returned, not thrown (reference §8.4).</summary>
public sealed class MacAddressing : NetProxy
{
    private readonly DeviceInterface _device;
    private readonly DevicePort _port;

    internal MacAddressing(DeviceInterface device, DevicePort port)
    {
        _device = device;
        _port = port;
    }

    internal MacFilterMode? Mode { get; private set; }
    internal List<byte[]> Multicast { get; } = new();

    [ScriptApi]
    public string GetUnicastAddress()
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("GetUnicastAddress");
            return MacFilter.Format(_port.Mac!.Address);
        }
    }

    [ScriptApi]
    public string SetMode(MacFilterMode mode)
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("SetMode");
            if (!Enum.IsDefined(mode)) return nameof(ZxStatus.ZX_ERR_INVALID_ARGS);
            if (_port.Mac!.Resolve(mode) is not { } resolved) return nameof(ZxStatus.ZX_ERR_NOT_SUPPORTED);
            Mode = resolved;
            _port.Mac.Consolidate();
            return nameof(ZxStatus.ZX_OK);
        }
    }

    /// <summary>Adds a multicast address (a string <c>01:00:5e:00:00:01</c> or 6 bytes).</summary>
    [ScriptApi]
    public string AddMulticastAddress(string address) => AddMulticast(MacFilter.Parse(address));

    /// <summary>As <see cref="AddMulticastAddress(string)"/>, with the address as its 6 bytes.</summary>
    [ScriptApi]
    public string AddMulticastAddress(byte[] address) => AddMulticast(address.Length == 6 ? address.ToArray() : null); // a copy: the caller keeps its array

    private string AddMulticast(byte[]? mac)
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("AddMulticastAddress");
            if (mac is null || (mac[0] & 1) == 0) return nameof(ZxStatus.ZX_ERR_INVALID_ARGS);
            if (Multicast.Count >= NetConstants.MAX_MAC_FILTER) return nameof(ZxStatus.ZX_ERR_NO_RESOURCES);
            if (!Multicast.Any(a => a.AsSpan().SequenceEqual(mac))) Multicast.Add(mac);
            _port.Mac!.Consolidate();
            return nameof(ZxStatus.ZX_OK);
        }
    }

    [ScriptApi]
    public string RemoveMulticastAddress(string address) => RemoveMulticast(MacFilter.Parse(address));

    /// <summary>As <see cref="RemoveMulticastAddress(string)"/>, with the address as its 6 bytes.</summary>
    [ScriptApi]
    public string RemoveMulticastAddress(byte[] address) => RemoveMulticast(address.Length == 6 ? address.ToArray() : null); // a copy: the caller keeps its array

    private string RemoveMulticast(byte[]? mac)
    {
        lock (_device.Sync)
        {
            ThrowIfClosed("RemoveMulticastAddress");
            if (mac is null || (mac[0] & 1) == 0) return nameof(ZxStatus.ZX_ERR_INVALID_ARGS);
            Multicast.RemoveAll(a => a.AsSpan().SequenceEqual(mac));
            _port.Mac!.Consolidate();
            return nameof(ZxStatus.ZX_OK);
        }
    }

    /// <summary>Closes this client: its mode and addresses stop counting.</summary>
    [ScriptApi]
    public void Close()
    {
        lock (_device.Sync)
        {
            if (IsClosed) return;
            CloseChannel(null);
            if (_port.Mac is { } f && f.Clients.Remove(this)) f.Consolidate();
        }
    }
}
