using System.Collections;
using System.Collections.Immutable;
using System.Globalization;

namespace NicScript.Driver.NetDevice;

/// <summary>Reads a port's configuration from a script's object (the same names as a machine file's port, camelCased).</summary>
internal static class PortConfigs
{
    private static readonly string[] Known = ["class", "rxTypes", "txTypes", "mac", "macModes", "multicastFilterCount", "online", "mtu"];

    public static PortConfig From(byte id, IDictionary<string, object?> d)
    {
        const string where = "AddPort";
        ScriptArgs.RejectUnknown(d, Known, where);
        var c = new PortConfig { Id = id };
        if (ScriptArgs.Integer(d, "class", 0, 5, where) is { } cls) c = c with { Class = (DeviceClass)cls };
        if (d.TryGetValue("rxTypes", out object? rx) && rx is not null) c = c with { RxTypes = [.. Numbers(rx, "rxTypes").Select(n => (FrameType)n)] };
        if (d.TryGetValue("txTypes", out object? tx) && tx is not null)
            c = c with
            {
                TxTypes = [.. Items(tx, "txTypes").Select(o => o switch
                {
                    IDictionary<string, object?> t => new FrameTypeSupport((FrameType)(ScriptArgs.Integer(t, "type", 0, 255, where) ?? 1),
                        (uint)(ScriptArgs.Integer(t, "features", 0, uint.MaxValue, where) ?? 1), (uint)(ScriptArgs.Integer(t, "supportedFlags", 0, uint.MaxValue, where) ?? 0)),
                    _ => new FrameTypeSupport((FrameType)Number(o, "txTypes"), NetConstants.FRAME_FEATURES_RAW, 0),
                })],
            };
        if (d.TryGetValue("mac", out object? mac))
            c = c with { Mac = mac is null ? null : MacFilter.Parse(mac) ?? throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: mac {mac} is not a MAC address") };
        if (d.TryGetValue("macModes", out object? modes) && modes is not null) c = c with { MacModes = [.. Numbers(modes, "macModes").Select(n => (MacFilterMode)n)] };
        if (ScriptArgs.Integer(d, "multicastFilterCount", 0, NetConstants.MAX_MAC_FILTER, where) is { } mc) c = c with { MulticastFilterCount = (int)mc };
        if (d.TryGetValue("online", out object? on) && on is bool online) c = c with { Online = online };
        if (ScriptArgs.Integer(d, "mtu", 0, uint.MaxValue, where) is { } mtu) c = c with { Mtu = (uint)mtu };
        return c;
    }

    private static IEnumerable<object?> Items(object value, string name) =>
        value is IEnumerable e and not string ? e.Cast<object?>() : throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"AddPort: {name} must be a list");

    private static IEnumerable<long> Numbers(object value, string name) => Items(value, name).Select(o => Number(o, name));

    private static long Number(object? o, string name)
    {
        try
        {
            return Convert.ToInt64(o, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"AddPort: {name} holds {o}, not a number");
        }
    }

}
