using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

internal sealed class Collector : IFrameReceiver
{
    public readonly List<byte[]> Frames = new();
    public void Receive(ReadOnlySpan<byte> frame) { lock (Frames) Frames.Add(frame.ToArray()); }
}
