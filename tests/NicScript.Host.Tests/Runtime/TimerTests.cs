using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Runtime;

public sealed class TimerTests
{
    [Fact]
    public void Timers_FireOnTheLoop_InOrder_AndCancelStopsThem()
    {
        VNodeReport r = ScriptRun.Single("t.js", """
            const order = [];
            let ticks = 0;
            const tick = vnode.every(5, () => { ticks++; if (ticks === 3) { vnode.cancel(tick); order.push("every x3"); } });
            vnode.after(1, () => order.push("after 1"));
            vnode.after(200, () => { order.push("after 200"); metrics.set("latency_ns", ticks); metrics.inc("packets_rx", order.length); });
            const never = vnode.after(100, () => order.push("cancelled"));
            vnode.cancel(never);
            """, "  - CAP_LOG_WRITE");
        Assert.Equal(VNodeStatus.Completed, r.Status); // no timer left: the run ended by itself
        Assert.Equal(3, r.Metrics.Single(m => m.Name == "latency_ns").Value);
        Assert.Equal(3, r.Metrics.Single(m => m.Name == "packets_rx").Value); // "after 1", "every x3", "after 200"
    }

    [Fact]
    public void Timer_NegativeDelay_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("t.csx", "VNode.Every(0, () => { });", "  - CAP_LOG_WRITE");
        Assert.Contains("timer of 0 ms", r.Error);
    }
}
