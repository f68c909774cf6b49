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

    /// <summary>True for the place of a device that was unplugged.</summary>
    public bool Unplugged { get; internal init; }

    public int Index { get; }

    internal IFrameReceiver Receiver { get; }

    /// <summary>False while the link is down (carrier lost): transmits are dropped and counted by the link.</summary>
    public bool Carrier => Link.Carrier;

    /// <summary>True when what this port sends is delivered back to it (see <see cref="Wire.Link.ReturnsToSender"/>).</summary>
    public bool ReturnsToSender => Link.ReturnsToSender;

    public long TxFrames => Volatile.Read(ref _txFrames);
    public long TxBytes => Volatile.Read(ref _txBytes);
    public long RxFrames => Volatile.Read(ref _rxFrames);
    public long RxBytes => Volatile.Read(ref _rxBytes);

    /// <summary>Puts one frame on the wire.</summary>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        _txFrames++; // a port has one device, which transmits under its own lock
        _txBytes += frame.Length;
        Link.Send(this, frame);
    }

    /// <summary>Puts a burst of frames on the wire, in order.</summary>
    public void TransmitBurst(FrameBatch frames)
    {
        if (frames.Count == 0) return;
        _txFrames += frames.Count;
        _txBytes += frames.Bytes;
        Link.SendBurst(this, frames);
    }

    internal void DeliverBurst(FrameBatch frames)
    {
        _rxFrames += frames.Count;
        _rxBytes += frames.Bytes;
        Receiver.ReceiveBurst(frames);
    }

    internal void Deliver(ReadOnlySpan<byte> frame)
    {
        _rxFrames++;
        _rxBytes += frame.Length;
        Receiver.Receive(frame);
    }
}
