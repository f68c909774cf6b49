using System.Diagnostics;

namespace NicScript.Driver.Interrupts;

/// <summary>An interrupt source a handler can be connected to: an INTx line or an MSI-X vector.</summary>
public abstract class Interrupt
{
    private IInterruptSink? _sink;
    private long _raised;
    private long _undelivered;

    protected Interrupt(int number) => Number = number;

    /// <summary>The INTx line number, or the MSI-X vector index.</summary>
    public int Number { get; }

    public abstract string Name { get; }

    /// <summary>Times the device raised it to a connected handler.</summary>
    public long Raised => Interlocked.Read(ref _raised);

    /// <summary>Times it fired with no handler connected (lost, as on a machine without a driver).</summary>
    public long Undelivered => Interlocked.Read(ref _undelivered);

    public bool IsConnected => Volatile.Read(ref _sink) is not null;

    /// <summary>Connects a handler; false when one is connected already.</summary>
    public bool Connect(IInterruptSink sink)
    {
        if (Interlocked.CompareExchange(ref _sink, sink, null) is not null) return false;
        OnConnected();
        return true;
    }

    /// <summary>A handler was just connected (a level-triggered line that is already asserted fires at once).</summary>
    protected virtual void OnConnected()
    {
    }

    public void Disconnect(IInterruptSink sink) => Interlocked.CompareExchange(ref _sink, null, sink);

    protected void Fire()
    {
        if (Volatile.Read(ref _sink) is { } sink)
        {
            Interlocked.Increment(ref _raised);
            sink.Deliver(this, Stopwatch.GetTimestamp());
        }
        else Interlocked.Increment(ref _undelivered);
    }

    public override string ToString() => Name;
}
