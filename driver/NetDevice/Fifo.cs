namespace NicScript.Driver.NetDevice;

/// <summary>One of a session's FIFOs: 16-bit descriptor indices client→device and back, each way at most <see cref="Depth"/> deep.</summary>
/// <remarks>
/// <c>zx_fifo_write</c>/<c>zx_fifo_read</c> semantics, except that "full" and "empty" are a count of 0 and an empty array
/// (back-pressure, not an error). Writing wakes the device, which takes entries when the session may be served (§3.2).
/// </remarks>
public sealed class Fifo
{
    private readonly Session _session;
    private readonly bool _isTx;
    private readonly List<TaskCompletionSource<bool>> _readers = new();

    internal Fifo(Session session, bool isTx, int depth)
    {
        _session = session;
        _isTx = isTx;
        Depth = depth;
        ToDevice = new IndexRing(depth);
        ToClient = new IndexRing(depth);
    }

    [ScriptApi] public int Depth { get; }

    /// <summary>Entries the client wrote that the device has not taken.</summary>
    internal IndexRing ToDevice { get; }

    /// <summary>Entries the device wrote back that the client has not read.</summary>
    internal IndexRing ToClient { get; }

    internal bool ClosedByClient { get; private set; }

    /// <summary>Queues as many of <paramref name="indices"/> as fit; returns how many (0 when full).</summary>
    [ScriptApi] public int Write(ushort[] indices) => Write(indices.AsSpan());

    public int Write(ReadOnlySpan<ushort> indices)
    {
        lock (_session.Device.Sync)
        {
            ThrowIfUnusable("write");
            int n = 0;
            while (n < indices.Length && ToDevice.TryPushBack(indices[n])) n++;
            if (n > 0) _session.Device.Pump();
            return n;
        }
    }

    /// <summary>Up to <paramref name="max"/> entries the device wrote back; <c>[]</c> when there are none.</summary>
    [ScriptApi]
    public ushort[] Read(int max)
    {
        lock (_session.Device.Sync)
        {
            int n = Math.Min(Math.Max(0, max), ToClient.Count);
            if (n == 0) ThrowIfDrainedAndClosed();
            var result = new ushort[n];
            for (int i = 0; i < n; i++) result[i] = ToClient.PopFront();
            if (n > 0) _session.Device.Pump(); // room on the way back lets the device take more
            return result;
        }
    }

    /// <summary>Reads into <paramref name="into"/>; returns how many (allocation-free).</summary>
    public int Read(Span<ushort> into)
    {
        lock (_session.Device.Sync)
        {
            int n = Math.Min(into.Length, ToClient.Count);
            if (n == 0) ThrowIfDrainedAndClosed();
            for (int i = 0; i < n; i++) into[i] = ToClient.PopFront();
            if (n > 0) _session.Device.Pump();
            return n;
        }
    }

    /// <summary>True as soon as there is something to read; false after <paramref name="timeoutMs"/>.</summary>
    [ScriptApi]
    public async Task<bool> WaitReadableAsync(int timeoutMs)
    {
        TaskCompletionSource<bool> waiter;
        lock (_session.Device.Sync)
        {
            if (ToClient.Count > 0 || _session.IsClosed) return true;
            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _readers.Add(waiter);
        }
        Task done = await Task.WhenAny(waiter.Task, Task.Delay(Math.Max(0, timeoutMs))).ConfigureAwait(false);
        if (done == waiter.Task) return true;
        lock (_session.Device.Sync) _readers.Remove(waiter);
        return false;
    }

    /// <summary>Closes the client's end: the whole session closes (reference ND-24).</summary>
    [ScriptApi]
    public void Close()
    {
        lock (_session.Device.Sync)
        {
            if (ClosedByClient) return;
            ClosedByClient = true;
            _session.Device.CloseSession(_session, ZxStatus.ZX_ERR_PEER_CLOSED);
        }
    }

    /// <summary>The device wrote an entry back (caller holds the lock).</summary>
    internal void PushToClient(ushort index)
    {
        if (!ToClient.TryPushBack(index)) throw new InvalidOperationException($"{(_isTx ? "tx" : "rx")} FIFO back-direction overflow"); // the device checks room first
        WakeReaders();
    }

    internal void WakeReaders()
    {
        if (_readers.Count == 0) return;
        foreach (TaskCompletionSource<bool> r in _readers) r.TrySetResult(true);
        _readers.Clear();
    }

    private void ThrowIfUnusable(string method)
    {
        if (ClosedByClient || _session.Closing)
            throw new ZxException(ZxStatus.ZX_ERR_PEER_CLOSED, $"Fifo.{method}: the session is closed");
    }

    private void ThrowIfDrainedAndClosed()
    {
        if (ClosedByClient || _session.IsClosed)
            throw new ZxException(ZxStatus.ZX_ERR_PEER_CLOSED, "Fifo.read: the session is closed and nothing is left to read");
    }
}
