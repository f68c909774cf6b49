namespace NicScript.Driver.NetDevice;

/// <summary>The Zircon statuses the netdevice layer reports (names and numbers of <c>zircon/errors.h</c>).</summary>
#pragma warning disable CA1707 // the Zircon spelling is the contract (reference/netdevice.md §8)
public enum ZxStatus
{
    ZX_OK = 0,
    ZX_ERR_INTERNAL = -1,
    ZX_ERR_NOT_SUPPORTED = -2,
    ZX_ERR_NO_RESOURCES = -3,
    ZX_ERR_INVALID_ARGS = -10,
    ZX_ERR_OUT_OF_RANGE = -14,
    ZX_ERR_BAD_STATE = -20,
    ZX_ERR_TIMED_OUT = -21,
    ZX_ERR_SHOULD_WAIT = -22,
    ZX_ERR_CANCELED = -23,
    ZX_ERR_PEER_CLOSED = -24,
    ZX_ERR_NOT_FOUND = -25,
    ZX_ERR_ALREADY_EXISTS = -26,
    ZX_ERR_ALREADY_BOUND = -27,
    ZX_ERR_UNAVAILABLE = -28,
    ZX_ERR_IO_INVALID = -47,
}
#pragma warning restore CA1707

/// <summary>A netdevice call failed with a Zircon status: <see cref="StatusName"/> and <see cref="Code"/> are what scripts see.</summary>
public sealed class ZxException(ZxStatus status, string message) : Exception(message)
{
    [ScriptApi] public ZxStatus Status { get; } = status;

    /// <summary>The status as Zircon spells it, e.g. <c>ZX_ERR_INVALID_ARGS</c>.</summary>
    [ScriptApi] public string StatusName => Status.ToString();

    /// <summary>The status number, e.g. −10.</summary>
    [ScriptApi] public int Code => (int)Status;

    /// <summary>Parses a status name a test hook was given (<c>"ZX_ERR_INTERNAL"</c>).</summary>
    public static ZxStatus Parse(string name) =>
        Enum.TryParse(name, ignoreCase: false, out ZxStatus s) && Enum.IsDefined(s) && !int.TryParse(name, out _)
            ? s
            : throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"'{name}' is not a Zircon status name (e.g. ZX_OK, ZX_ERR_INTERNAL)");
}
