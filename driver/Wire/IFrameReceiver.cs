namespace NicScript.Driver.Wire;

/// <summary>A device's receive side on a wire: called with each frame that arrives at its port.</summary>
/// <remarks>The span is valid only during the call: the receiver copies it (once, into a posted DMA buffer) or drops it.</remarks>
public interface IFrameReceiver
{
    void Receive(ReadOnlySpan<byte> frame);

    /// <summary>A burst of frames, in order (valid only during the call). A receiver that can take a burst at once (one lock,
    /// one ring publish) overrides this; by default each frame is received alone.</summary>
    void ReceiveBurst(FrameBatch frames)
    {
        for (int i = 0; i < frames.Count; i++) Receive(frames[i]);
    }
}
