using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests.Runtime;

public sealed class OwnershipAndBackPressureTests
{
    private const string NicCaps = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE";

    [Fact]
    public void Release_Twice_IsRefused()
    {
        VNodeReport r = ScriptRun.Single("t.js", """
            const nic = net.open("00:1f.0").up();
            const b = nic.burst();
            b.write(0, [1,2,3,4,5,6,7,8,9,10,11,12,13,14]);
            const f = b.take(0);
            nic.release(f);
            let msg = "";
            try { nic.release(f); } catch (e) { msg = e.message; }
            msg;
            """, NicCaps);
        Assert.Contains("not held by script-test", (string)r.Result!); // released: the view died with the release
    }

    [Fact]
    public async Task SlowReceiver_DropsAreCounted_TheQueueStaysBounded()
    {
        using var dir = new TempDir();
        dir.Write("slow.js", "ipc.serve('svc://slow', m => { let x = 0; for (let i = 0; i < 2000; i++) x += i; });");
        dir.Write("fast.js", "let refused = 0; for (let i = 0; i < 20000; i++) if (!ipc.send('svc://slow', 'x')) refused++; refused;");
        var slow = ManifestLoader.LoadVNode(dir.Write("slow.yml", TestVNode.Manifest("slow", "  - CAP_LOG_WRITE", "slow.js", share: 1)));
        var fast = ManifestLoader.LoadVNode(dir.Write("fast.yml", TestVNode.Manifest("fast", "  - CAP_LOG_WRITE", "fast.js", memMb: 64, share: 1)));
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(dir.File("cache")));
        RunReport report = await runner.RunAsync("t", [slow, fast], machine, audit, TimeSpan.FromSeconds(2), CancellationToken.None);
        double refused = Convert.ToDouble(report.VNodes[1].Result);
        Assert.True(refused > 0, $"a queue of 4096 cannot take 20000 messages faster than they are handled: {report.VNodes[1].Status} {report.VNodes[1].Error} result {report.VNodes[1].Result} handled {report.VNodes[0].HandlerCalls}");
        Assert.True(report.VNodes[0].HandlerCalls <= 20000 - refused + 1);
        // What was accepted and never handled waited in the queue: never more than its 4096 places (the process's heap is
        // no measure here: the other test classes run beside this one).
        double backlog = 20000 - refused - report.VNodes[0].HandlerCalls;
        Assert.True(backlog <= 4096, $"{backlog} messages were queued at once");
    }
}
