using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Capabilities;

/// <summary>The <c>dpu.wire(...)</c> handle: a traffic source into the DPU and the cable's carrier, from JavaScript.</summary>
public sealed class DpuWireHandleTests
{
    private const string Grants = "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE";

    [Fact]
    public void A_script_sends_from_the_wire_and_pulls_the_carrier()
    {
        VNodeReport r = ScriptRun.Single("wire.js", """
            const w = dpu.wire("optical1").configure({ size: 128, dmac: "04:00:00:00:00:01", flows: 4 });
            w.send(10);
            const before = dpu.ethMacGetStats({ port_id: 1 }).ipackets;
            w.setCarrier(false);
            const link = dpu.ethMacGetLink({ port_id: 1 }).link;
            `${before} ${w.carrier} ${w.sent} ${w.sentBytes} ${link.link_status} ${link.link_speed} ${dpu.getPortStats({ vid: 0x10000 }).rx_packets}`;
            """, Grants);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal("10 false 10 1280 false 0 10", r.Result); // unknown unicast from the wire: to SoC port 0
    }

    [Fact]
    public void A_started_stream_runs_on_its_own_and_ends_on_time()
    {
        VNodeReport r = ScriptRun.Single("stream.js", """
            const w = dpu.wire("optical0").configure({ dmac: "04:00:00:00:00:01" });
            w.start(2000, 0.1);
            const wasRunning = w.running;
            const t = vnode.every(5, () => {
              if (w.running) return;
              vnode.cancel(t);
              metrics.set("latency_ns", w.sent);
              metrics.inc("packets_rx", wasRunning ? 1 : 0);
            });
            """, Grants);
        Assert.Equal(VNodeStatus.Completed, r.Status);
        Assert.Equal(1, r.Metrics.Single(m => m.Name == "packets_rx").Value);
        Assert.InRange(r.Metrics.Single(m => m.Name == "latency_ns").Value, 150, 201); // 2000/s for 0.1 s, never more than due
    }

    [Theory]
    [InlineData("""dpu.wire("optical7")""", "dpu.wire(\"optical7\"): the DPU has optical0..optical1 and soc0..soc1")]
    [InlineData("""dpu.wire("soc0").configure({ size: 10 })""", "dpu wire configure: size 10 is not 42..65535")]
    [InlineData("""dpu.wire("soc0").configure({ colour: "red" })""", "dpu wire configure: unknown field colour")]
    public void Bad_wires_and_specs_are_one_line_errors(string call, string message)
    {
        VNodeReport r = ScriptRun.Single("bad.js", call, Grants);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains(message, r.Error);
    }

    [Fact]
    public void Without_CAP_DPU_ADMIN_the_wire_is_denied()
    {
        VNodeReport r = ScriptRun.Single("denied.js", """dpu.wire("optical0")""", "  - CAP_LOG_WRITE");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("CAP_DPU_ADMIN", r.Error);
    }
}
