namespace NicScript.Driver.NetDevice;

/// <summary>A client end of a FIDL channel: open until the server closes it, with or without an epitaph (reference §8.4).</summary>
public abstract class NetProxy
{
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ZxStatus? _epitaph;

    /// <summary>The status the server closed the channel with; <c>ZX_ERR_PEER_CLOSED</c> when it closed without one; null while open.</summary>
    [ScriptApi] public string? Epitaph => IsClosed ? EpitaphStatus.ToString() : null;

    public bool IsClosed => _closed.Task.IsCompleted;

    internal ZxStatus EpitaphStatus => _epitaph ?? ZxStatus.ZX_ERR_PEER_CLOSED;

    /// <summary>The epitaph once the channel closes; throws ZX_ERR_TIMED_OUT when it is still open after <paramref name="timeoutMs"/>.</summary>
    [ScriptApi]
    public async Task<string?> WaitClosedAsync(int timeoutMs)
    {
        Task<string> closed = _closed.Task;
        if (!closed.IsCompleted && await Task.WhenAny(closed, Task.Delay(Math.Max(0, timeoutMs))).ConfigureAwait(false) != closed)
            throw new ZxException(ZxStatus.ZX_ERR_TIMED_OUT, $"{GetType().Name}: still open after {timeoutMs} ms");
        return await closed.ConfigureAwait(false);
    }

    /// <summary>Closes the channel: with an epitaph, or (null) without one. Later calls do nothing.</summary>
    internal void CloseChannel(ZxStatus? epitaph)
    {
        if (IsClosed) return;
        _epitaph = epitaph;
        OnChannelClosed();
        _closed.TrySetResult(EpitaphStatus.ToString());
    }

    /// <summary>The channel just closed: fail what is pending.</summary>
    private protected virtual void OnChannelClosed()
    {
    }

    /// <summary>A call on a closed channel fails with its epitaph.</summary>
    private protected void ThrowIfClosed(string method)
    {
        if (IsClosed) throw new ZxException(EpitaphStatus, $"{GetType().Name}.{method}: the channel is closed ({EpitaphStatus})");
    }
}
