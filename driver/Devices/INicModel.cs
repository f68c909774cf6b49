using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices;

/// <summary>A device model that is a NIC: a MAC, an MTU and a wire port that a protocol engine (RoCEv2) may share.</summary>
public interface INicModel : IDeviceModel
{
    byte[] Mac { get; }

    ushort Mtu { get; }

    /// <summary>Plugs the device into <paramref name="link"/> (its <see cref="IDeviceModel.Port"/> from then on).</summary>
    void Connect(Link link);

    /// <summary>A protocol engine bound to this function: it sees each arriving frame first and may take it (null unbinds).</summary>
    void SetTap(IFrameTap? tap);

    /// <summary>Puts a frame a protocol engine built on the wire through this function's port.</summary>
    void TransmitRaw(ReadOnlySpan<byte> frame);
}
