namespace NicScript.Driver.NetDevice;

/// <summary>A port a test adds to the emulated NIC (<see cref="NicEmulator.AddPort(byte, PortOptions)"/>): the fields of a
/// machine file's port; a null field keeps <see cref="PortConfig"/>'s default.</summary>
public sealed class PortOptions
{
    [ScriptApi]
    public PortOptions()
    {
    }

    [ScriptApi] public DeviceClass? Class { get; set; }
    [ScriptApi] public FrameType[]? RxTypes { get; set; }
    [ScriptApi] public FrameTypeSupport[]? TxTypes { get; set; }
    /// <summary><c>aa:bb:cc:dd:ee:ff</c>, or null: the port has no MAC.</summary>
    [ScriptApi] public string? Mac { get; set; }
    [ScriptApi] public MacFilterMode[]? MacModes { get; set; }
    [ScriptApi] public int? MulticastFilterCount { get; set; }
    [ScriptApi] public bool? Online { get; set; }
    [ScriptApi] public uint? Mtu { get; set; }

    /// <summary>The configuration of port <paramref name="id"/>; a value out of its range is ZX_ERR_INVALID_ARGS.</summary>
    internal PortConfig ToConfig(byte id)
    {
        const string where = "AddPort";
        var c = new PortConfig { Id = id };
        if (Class is { } cls)
            c = c with { Class = cls <= DeviceClass.WLAN_AP ? cls : throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: class = {(int)cls} is not a whole number in 0..5") };
        if (RxTypes is { } rx) c = c with { RxTypes = [.. rx] };
        if (TxTypes is { } tx) c = c with { TxTypes = [.. tx] };
        if (Mac is { } mac) c = c with { Mac = MacFilter.Parse(mac) ?? throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: mac {mac} is not a MAC address") };
        if (MacModes is { } modes) c = c with { MacModes = [.. modes] };
        if (MulticastFilterCount is { } mc)
            c = c with { MulticastFilterCount = mc is >= 0 and <= NetConstants.MAX_MAC_FILTER ? mc : throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: multicastFilterCount = {mc} is not a whole number in 0..{NetConstants.MAX_MAC_FILTER}") };
        if (Online is { } online) c = c with { Online = online };
        if (Mtu is { } mtu) c = c with { Mtu = mtu };
        return c;
    }
}
