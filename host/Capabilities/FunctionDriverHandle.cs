using NicScript.Driver.Devices.Virtio;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;

namespace NicScript.Host.Capabilities;

/// <summary>What a script's driver for one PCI function (<c>net.open</c>, <c>blk.open</c>) shares: the function, bring-up
/// once at a time, the removed / not-up checks every call makes, and <c>down()</c>.</summary>
public abstract class FunctionDriverHandle<TDriver> where TDriver : class
{
    private readonly string _kind;
    private TDriver? _driver;

    private protected FunctionDriverHandle(VNodeContext ctx, Machine machine, PciFunction function, string kind)
    {
        Ctx = ctx;
        Machine = machine;
        Function = function;
        _kind = kind;
    }

    private protected VNodeContext Ctx { get; }

    private protected Machine Machine { get; }

    private protected PciFunction Function { get; }

    [ScriptApi] public string Address => Function.Address.ToString();

    /// <summary>Brings the driver up with <paramref name="bringUp"/> (the function's memory and the V-Node's DMA owner); a
    /// driver error is the script's error, named after the handle.</summary>
    private protected void BringUp(Func<PciFunction, DmaMemory, DmaOwner, TDriver> bringUp)
    {
        if (Function.Removed) throw new ScriptCallException($"{_kind} {Function.Address}: the function was removed");
        if (_driver is not null) throw new ScriptCallException($"{_kind} {Function.Address}: already up; call down() first");
        try
        {
            _driver = bringUp(Function, Machine.Dma, Ctx.DmaOwner);
        }
        catch (VirtioDriverException e)
        {
            throw new ScriptCallException($"{_kind} up: " + e.Message);
        }
    }

    private protected TDriver Driver => Function.Removed
        ? throw new ScriptCallException($"{_kind} {Function.Address}: the function was removed")
        : _driver ?? throw new ScriptCallException($"{_kind} {Function.Address}: call up() first");

    /// <summary>Resets the device and frees its rings and buffers.</summary>
    private protected abstract void Shutdown(TDriver driver);

    /// <summary>Resets the device and frees what the driver holds in DMA memory.</summary>
    [ScriptApi]
    public void Down()
    {
        Shutdown(Driver);
        _driver = null;
    }
}
