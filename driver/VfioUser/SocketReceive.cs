namespace NicScript.Driver.VfioUser;

/// <summary>How a <see cref="UnixMessageSocket.Receive"/> ended.</summary>
internal enum SocketReceive
{
    Complete,
    /// <summary>The peer closed before the first byte.</summary>
    Closed,
    /// <summary>The peer closed part way.</summary>
    Truncated,
    /// <summary>More descriptors than <see cref="UnixMessageSocket.MaxFds"/>.</summary>
    TooManyFds,
    Failed,
}
