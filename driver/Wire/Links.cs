namespace NicScript.Driver.Wire;

/// <summary>Makes wires.</summary>
public static class Links
{
    public static Link Loopback(string name = "loopback") => new LoopbackLink(name);

    public static Link Pair(string name = "pair") => new PairLink(name);

    public static Link Switch(string name = "switch", int ports = 16) => new SwitchLink(name, ports);

    /// <summary>A TAP device <paramref name="ifname"/> in this network namespace; the Linux stack is the peer.</summary>
    /// <exception cref="TapException">/dev/net/tun cannot be opened or the device cannot be created.</exception>
    public static Link Tap(string ifname) => TapLink.Open(ifname);
}
