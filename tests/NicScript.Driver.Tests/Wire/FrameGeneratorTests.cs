using NicScript.Driver.Time;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

/// <summary>The frame generator's real-time pacer run on a stepped clock: an exact rate instead of one within noise.</summary>
public sealed class FrameGeneratorTests
{
    [Fact]
    public async Task Run_OnAManualClock_SendsExactlyRateTimesDuration()
    {
        var clock = new ManualClock();
        using var g = new FrameGenerator(Links.Pair(), clock);
        Task<long> run = Task.Run(() => g.Run(framesPerSecond: 1000, TimeSpan.FromSeconds(1)));

        WaitForSent(g, 1); // the first frame goes at time 0: the pacer has read its start
        clock.Advance(TimeSpan.FromMilliseconds(500));
        WaitForSent(g, 501);
        clock.Advance(TimeSpan.FromMilliseconds(499));
        WaitForSent(g, 1000);
        Assert.False(run.IsCompleted); // 999 ms of 1 s
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30)))); // a hang guard: Run ends once its clock passes the duration
        Assert.Equal(1000, await run);
        Assert.Equal(1000, g.Sent);
    }

    /// <summary>Waits (a hang guard, not a timing) until the pacer on its own thread has caught up with the clock.</summary>
    private static void WaitForSent(FrameGenerator g, long expected)
    {
        Assert.True(SpinWait.SpinUntil(() => g.Sent >= expected, TimeSpan.FromSeconds(30)), $"sent {g.Sent}, expected {expected}");
        Thread.Sleep(20); // a pacer that sent too many would show it now
        Assert.Equal(expected, g.Sent);
    }
}
