using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Driver;

/// <summary>The world a run sees: DMA memory and the PCI bus; interrupts and wires join as the core grows.</summary>
/// <remarks>Only composes the parts; each part owns its own rules (DESIGN §1, STYLE §11).</remarks>
public sealed class Machine : IDisposable
{
    public Machine(string name = "default")
    {
        Name = name;
        Dma = new DmaMemory();
        Pci = new PciBus();
    }

    public string Name { get; }

    public DmaMemory Dma { get; }

    public PciBus Pci { get; }

    public void Dispose() => Dma.Dispose();
}
