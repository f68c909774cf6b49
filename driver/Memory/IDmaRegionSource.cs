namespace NicScript.Driver.Memory;

/// <summary>Something that stands for one DMA region: the region itself, or a script's handle on it.</summary>
public interface IDmaRegionSource
{
    DmaRegion Region { get; }
}
