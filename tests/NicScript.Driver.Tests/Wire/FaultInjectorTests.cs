using NicScript.Driver.Time;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

/// <summary>The fault injector's timing on an injected clock: delays step exactly, and frames nobody holds cost no clock read.</summary>
public sealed class FaultInjectorTests
{
    private sealed class CountingClock : IClock
    {
        public int Reads;
        public long NowNs
        {
            get
            {
                Reads++;
                return 0;
            }
        }
    }

    [Fact]
    public void Delay_EachHeldFrameGoesOutAtItsOwnDueTime()
    {
        var clock = new ManualClock();
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        var faults = new FaultInjector(new FaultSettings(Delay: 1.0, Seed: 1, DelayTime: TimeSpan.FromMilliseconds(30)), clock);
        link.InjectFaults(faults);

        port.Transmit(LinkTests.Ether(1, 1, fill: 0x0A)); // due at 30 ms
        clock.Advance(TimeSpan.FromMilliseconds(10));
        port.Transmit(LinkTests.Ether(1, 1, fill: 0x0B)); // due at 40 ms
        clock.Advance(TimeSpan.FromMilliseconds(20));
        link.Poll();
        Assert.Equal([0x0A], rx.Frames.Select(f => f[20]));
        Assert.Equal(1, faults.Holding);

        clock.AdvanceNs(10_000_000 - 1);
        link.Poll();
        Assert.Single(rx.Frames);
        clock.AdvanceNs(1);
        link.Poll();
        Assert.Equal([0x0A, 0x0B], rx.Frames.Select(f => f[20]));
        Assert.Equal(0, faults.Holding);
    }

    [Fact]
    public void Apply_WithNothingDelayedOrHeld_ReadsNoClock()
    {
        var clock = new CountingClock();
        var rx = new Collector();
        using Link link = Links.Loopback();
        WirePort port = link.Attach(rx);
        var faults = new FaultInjector(new FaultSettings(Drop: 0.1, Corrupt: 0.1, Duplicate: 0.1, Reorder: 0.1, Seed: 9), clock);
        link.InjectFaults(faults);
        for (int i = 0; i < 1000; i++) port.Transmit(LinkTests.Ether(1, 1));
        link.Poll();
        Assert.Equal(1000, faults.Seen);
        Assert.Equal(0, clock.Reads);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.0, 0.5)]
    public void A_receiver_is_handed_frames_outside_the_injectors_lock(double corrupt, double reorder)
    {
        // The built-in peer sends through the injector while a V-Node's device transmits back under its own locks:
        // delivering under the injector's lock ordered the two and hung `run --faults` (CI, stop 25).
        using Link link = Links.Switch();
        WirePort? third = null;
        var probe = new SendsFromAnotherThread(() => third!, LinkTests.Ether(1, 3));
        WirePort sender = link.Attach(new Collector());
        link.Attach(probe);
        third = link.Attach(new Collector());
        link.InjectFaults(new FaultInjector(new FaultSettings(Corrupt: corrupt, Reorder: reorder, Seed: 3)));
        for (int i = 0; i < 4 && probe.Received == 0; i++) sender.Transmit(LinkTests.Ether(2, 1));
        Assert.True(probe.Received > 0);
        Assert.True(probe.OtherFinished, "a second sender was blocked while a receiver was being handed a frame");
    }
}
