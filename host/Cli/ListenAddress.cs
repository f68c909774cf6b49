using System.Globalization;
using System.Net;

namespace NicScript.Host.Cli;

/// <summary>The <c>IP:PORT</c> a listening option names (<c>--listen</c>, <c>--dpu-listen</c>, <c>--metrics-listen</c>), checked before anything listens.</summary>
public static class ListenAddress
{
    /// <summary>Reads <paramref name="text"/> as <c>IP:PORT</c> (IPv6 in brackets) with a port 0..65535 (1..65535 unless <paramref name="anyPort"/>).</summary>
    /// <exception cref="UserErrorException">Not an address and port, or not loopback when <paramref name="loopbackOnly"/>.</exception>
    public static IPEndPoint Parse(string option, string text, bool loopbackOnly = false, bool anyPort = true)
    {
        int colon = text.LastIndexOf(':');
        string host = colon > 0 ? text[..colon] : "";
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (bracketed) host = host[1..^1];
        if (colon <= 0 || !IPAddress.TryParse(host, out IPAddress? ip) || !Written(host, ip, bracketed) ||
            !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535 || (!anyPort && port == 0))
            throw new UserErrorException($"{option} {text}: expected IP:PORT, e.g. {(loopbackOnly ? "127.0.0.1:9100" : "127.0.0.1:50051")}");
        if (loopbackOnly && !IPAddress.IsLoopback(ip)) throw new UserErrorException($"{option} {text}: only a loopback address (127.0.0.1, [::1]) is served");
        return new IPEndPoint(ip, port);
    }

    /// <summary>Binds <paramref name="endpoint"/> for a moment, so that an address this host does not have (or a taken port) is
    /// refused before a command makes anything; the real listen later can still fail the same way, with the same line.</summary>
    /// <exception cref="UserErrorException">One line naming the address and the system's reason.</exception>
    public static void CheckBindable(string option, string text, IPEndPoint endpoint)
    {
        using var probe = new System.Net.Sockets.Socket(endpoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            // as Kestrel binds: connections of a previous run in TIME_WAIT do not make the port "taken"
            probe.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            probe.Bind(endpoint);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new UserErrorException($"{option} {text}: cannot listen there: {e.Message}");
        }
    }

    /// <summary>True when <paramref name="host"/> is written out: .NET also reads "10.1" as 10.0.0.1 and "5" as 0.0.0.5; IPv6 in brackets.</summary>
    private static bool Written(string host, IPAddress ip, bool bracketed) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? bracketed && !host.Contains('%') : !bracketed && host.Count(c => c == '.') == 3;
}
