using NicScript.Driver.Devices;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Tests.Wire;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.VirtioNet;

/// <summary>A virtio-net function on a wire it shares with other devices: its receive path stays open while it transmits.</summary>
public sealed class VirtioNetSharedWireTests : IDisposable
{
    private sealed class NoFaults : IDeviceEvents
    {
        public void Fault(DeviceFault fault) { }
    }

    private readonly DmaMemory _memory = new();

    public void Dispose() => _memory.Dispose();

    [Fact]
    public void A_frame_arriving_while_the_function_transmits_on_a_switch_is_received()
    {
        var events = new NoFaults();
        DmaOwner owner = _memory.CreateOwner("vnode", 16 << 20);
        var device = new VirtioNetDevice(new PciAddress(0, 0, 3, 0), new IommuDomain(_memory, "0000:00:03.0", events), new IrqLine(11),
            [0x52, 0x54, 0, 0, 0x12, 0x34], events);
        using Link wire = Links.Switch();
        device.Connect(wire);
        WirePort? other = null;
        var peer = new SendsFromAnotherThread(() => other!, SendsFromAnotherThread.Frame([0x52, 0x54, 0, 0, 0x12, 0x34]));
        other = wire.Attach(peer);
        VirtioNetDriver driver = VirtioNetDriver.BringUp(device.Function, _memory, owner);

        var tx = new FrameBurst(driver.Pool);
        Assert.True(tx.Fill());
        tx.Buffer(0).Fill(0xff); // broadcast: floods to the peer
        tx.Buffer(0)[12] = 0x88; tx.Buffer(0)[13] = 0xB5;
        tx.SetLength(0, 64);
        tx.Count = 1;
        Assert.Equal(1, driver.Tx(tx));

        Assert.True(peer.OtherFinished, "the peer's answer could not reach the function while it was transmitting");
        var rx = new FrameBurst(driver.Pool);
        Assert.Equal(1, driver.RxPoll(rx));
        Assert.Equal(9, rx.Frame(0)[11]);
    }
}
