namespace NicScript.Driver.Wire;

/// <summary>Where a wire copies every frame it carries: a pcap file, or a test's list.</summary>
public interface ICaptureSink
{
    void Write(ReadOnlySpan<byte> frame);
}
