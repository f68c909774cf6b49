using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Memory;
using NicScript.Driver.Tests.Wire;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>The MANA VF on a wire it shares with other devices: its receive path stays open while it transmits.</summary>
public sealed class ManaSharedWireTests : IDisposable
{
    private sealed class NoEvents : IDeviceEvents
    {
        public void Fault(DeviceFault fault) { }
    }

    private readonly Machine _machine = DefaultMachine.Create(new NoEvents());

    public void Dispose() => _machine.Dispose();

    [Fact]
    public void A_frame_arriving_while_the_VF_transmits_on_a_switch_is_received()
    {
        ManaDevice vf = _machine.Devices.OfType<ManaDevice>().Single();
        using Link wire = Links.Switch();
        vf.Connect(wire);
        using var driver = new ManaDriver(vf.Function, _machine.Dma, _machine.Dma.CreateOwner("test", 64 << 20));
        driver.BringUp();
        WirePort? other = null;
        var peer = new SendsFromAnotherThread(() => other!, SendsFromAnotherThread.Frame(driver.Mac));
        other = wire.Attach(peer);

        ManaQueuePair q = driver.Queues!;
        Span<byte> f = q.NextTxBuffer()[..64];
        f.Clear();
        f[..6].Fill(0xff); // broadcast: floods to the peer
        driver.Mac.CopyTo(f[6..]);
        f[12] = 0x88; f[13] = 0xB5;
        Assert.True(q.Post(64));
        q.Flush();

        Assert.True(peer.OtherFinished, "the peer's answer could not reach the VF while it was transmitting");
        q.ProcessEvents();
        int received = 0;
        q.PollRx(frame => received += frame[11] == 9 ? 1 : 0);
        Assert.Equal(1, received);
    }
}
