namespace NicScript.Driver.Wire;

/// <summary>Where one device is plugged into a <see cref="Link"/>.</summary>
public sealed class WirePort
{
    private long _txFrames, _txBytes, _rxFrames, _rxBytes;

    internal WirePort(Link link, int index, IFrameReceiver receiver)
    {
        Link = link;
        Index = index;
        Receiver = receiver;
    }

    public Link Link { get; }

    public int Index { get; }

    internal IFrameReceiver Receiver { get; }

    /// <summary>False while the link is down (carrier lost): transmits are dropped and counted by the link.</summary>
    public bool Carrier => Link.Carrier;

    public long TxFrames => Interlocked.Read(ref _txFrames);
    public long TxBytes => Interlocked.Read(ref _txBytes);
    public long RxFrames => Interlocked.Read(ref _rxFrames);
    public long RxBytes => Interlocked.Read(ref _rxBytes);

    /// <summary>Puts one frame on the wire.</summary>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref _txFrames);
        Interlocked.Add(ref _txBytes, frame.Length);
        Link.Send(this, frame);
    }

    internal void Deliver(ReadOnlySpan<byte> frame)
    {
        Interlocked.Increment(ref _rxFrames);
        Interlocked.Add(ref _rxBytes, frame.Length);
        Receiver.Receive(frame);
    }
}
