using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Cli.Bench;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Runtime;

/// <summary>Several V-Nodes in one system: each within its share over time, and a V-Node whose script throws from an
/// <c>async</c> path fails alone with one line while the others keep running.</summary>
public sealed class ShareAndContainmentTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private VNodeManifest VNode(string name, string script, string code, double share = 0.5, string caps = "  - CAP_LOG_WRITE")
    {
        _dir.Write(script, code);
        return ManifestLoader.LoadVNode(_dir.Write(name + ".yml", TestVNode.Manifest(name, caps, script, memMb: 16, share: share)));
    }

    private static readonly string Cache = Path.Combine(Path.GetTempPath(), "nicscript-test-cache");

    /// <summary>Runs the V-Nodes together for <paramref name="duration"/>, C# compiled first (the duration counts from before
    /// compiling: on a loaded machine Roslyn alone could use it up and leave the bystander no time to tick).</summary>
    private static RunReport Run(TimeSpan duration, params VNodeManifest[] vnodes)
    {
        foreach (VNodeManifest v in vnodes.Where(v => v.Runtime.Language == ScriptLanguage.CSharp))
            NicScript.Host.Scripting.CSharp.CSharpEngine.Create(v.Runtime.EntrypointPath, ScriptBudget.ForManifest(1, 16), Cache, CancellationToken.None).Dispose();
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var runner = new VNodeRunner(log, new ScriptEngineFactory(Cache));
        return runner.RunAsync("sys", vnodes, machine, audit, duration, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Counts its ticks in packets_rx: the bystander that must keep running.</summary>
    private VNodeManifest Steady() => VNode("steady", "steady.js", "vnode.every(5, () => metrics.inc('packets_rx'));");

    private static double Metric(VNodeReport r, string name) => r.Metrics.Single(m => m.Name == name).Value;

    private static string Bystander(VNodeReport r) =>
        $"the bystander ticked {Metric(r, "packets_rx")} times ({r.HandlerCalls} handler calls, {r.CpuTime.TotalMilliseconds:0} ms CPU, {r.Status} {r.Error})";

    // Share ----------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("hog.js", "vnode.after(50, () => metrics.set('latency_ns', 1));\nvnode.every(1, () => { metrics.inc('packets_rx'); const t = vnode.nowNs; while (vnode.nowNs - t < 20e6) {} });")]
    [InlineData("hog.csx", "VNode.After(50, () => Metrics.Set(\"latency_ns\", 1));\nVNode.Every(1, () => { Metrics.Inc(\"packets_rx\"); var t = VNode.NowNs; while (VNode.NowNs - t < 20e6) { } });")]
    public void HandlersOver_TheirShare_AreThrottled_ToIt_AndNoTimerIsDropped(string file, string code)
    {
        // every(1) handlers of 90 ms each under max_cpu_share 0.05 used a whole core, and the queue dropped the one-shot. Here
        // 20 ms each under 0.1: ten times the share, and a tenth of the 200 ms runaway limit, so a collection the handler's
        // allocations start on its thread (its CPU counts too; one took ~140 ms under two busy loops and the whole suite)
        // cannot push one call over it. (Memory is generous: Jint allocates a number per vnode.nowNs read.)
        _dir.Write(file, code);
        VNodeManifest hog = ManifestLoader.LoadVNode(_dir.Write("hog.yml", TestVNode.Manifest("hog", "  - CAP_LOG_WRITE", file, memMb: 512, share: 0.1)));
        RunReport report = Run(TimeSpan.FromSeconds(5), hog, Steady());
        VNodeReport r = report.VNodes[0];
        Assert.True(r.Status == VNodeStatus.Stopped, r.Error);
        double rate = r.CpuTime.TotalSeconds / report.Elapsed.TotalSeconds;
        // 10 % of a core plus the carried burst (200 ms) and one handler past it, over 5 s: ~15 %; a whole core before.
        output.WriteLine($"used {r.CpuTime.TotalMilliseconds:0} ms of CPU in {report.Elapsed.TotalMilliseconds:0} ms ({rate:P1}), {Metric(r, "packets_rx")} handler calls");
        Assert.True(rate < 0.3, $"used {r.CpuTime.TotalMilliseconds:0} ms of CPU in {report.Elapsed.TotalMilliseconds:0} ms ({rate:P0})");
        Assert.True(Metric(r, "packets_rx") >= 2, "the handler ran " + Metric(r, "packets_rx"));
        Assert.Equal(1, Metric(r, "latency_ns")); // the one-shot fired late, not never
        Assert.True(Metric(report.VNodes[1], "packets_rx") > 50, Bystander(report.VNodes[1]));
    }

    [Fact]
    public void AVNodeWithinItsShare_IsNotThrottled()
    {
        // 1 ms of work every 20 ms is 5 % of a core: under a 0.2 share it keeps its pace.
        VNodeManifest v = VNode("light", "light.js", "vnode.every(20, () => { metrics.inc('packets_rx'); const t = vnode.nowNs; while (vnode.nowNs - t < 1e6) {} });", share: 0.2);
        RunReport report = Run(TimeSpan.FromSeconds(2), v);
        double ticks = Metric(report.VNodes[0], "packets_rx");
        Assert.True(ticks > 20, $"{ticks} ticks in {report.Elapsed.TotalMilliseconds:0} ms"); // ~100 expected; a 5x slower host still passes
    }

    [Fact]
    public void Timers_OfOneVNode_FireInDueOrder()
    {
        // Each timer notes the time it was due (creation + delay, read by the script); they must fire in that order.
        VNodeReport r = ScriptRun.Single("t.js", """
            const fired = [];
            for (let i = 10; i >= 1; i--) {
              const lo = vnode.nowNs / 1e6 + i * 3; // the host's due time is between lo and hi
              vnode.after(i * 3, () => fired.push([lo, hi, i]));
              const hi = vnode.nowNs / 1e6 + i * 3;
            }
            vnode.every(2, () => {});
            vnode.after(200, () => {
              for (let i = 1; i < fired.length; i++)
                if (fired[i - 1][0] > fired[i][1]) vnode.fail('out of order: ' + fired.map(f => f[2] + '@' + f[0].toFixed(2) + '..' + f[1].toFixed(2)).join(' '));
              metrics.set('packets_rx', fired.length);
              vnode.fail('done');
            });
            """, "  - CAP_LOG_WRITE");
        Assert.EndsWith(": done", r.Error);
        Assert.Equal(10, Metric(r, "packets_rx"));
    }

    [Fact]
    public void ARepeatingTimer_DoesNotFloodTheQueue_WhenItsHandlerIsSlowerThanItsPeriod()
    {
        // Each tick takes 5 ms of a 1 ms period: ticks run back to back, the one-shot still comes in its turn.
        VNodeReport r = ScriptRun.Run("t.js", """
            vnode.every(1, () => { metrics.inc('packets_rx'); const t = vnode.nowNs; while (vnode.nowNs - t < 5e6) {} });
            vnode.after(30, () => metrics.set('latency_ns', 1));
            """, "  - CAP_LOG_WRITE", share: 1, duration: TimeSpan.FromSeconds(1)).VNodes.Single();
        Assert.True(r.Status == VNodeStatus.Stopped, r.Error);
        Assert.Equal(1, Metric(r, "latency_ns"));
    }

    // Containment ----------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("async void Boom()\n{\n    await System.Threading.Tasks.Task.CompletedTask;\n    throw new InvalidOperationException(\"boom\");\n}\nBoom();", 1)]
    [InlineData("VNode.After(10, async () =>\n{\n    await System.Threading.Tasks.Task.CompletedTask;\n    throw new InvalidOperationException(\"boom\");\n});", 1)]
    [InlineData("Ipc.Serve(\"svc://bad\", async m =>\n{\n    await System.Threading.Tasks.Task.CompletedTask;\n    throw new InvalidOperationException(\"boom\");\n});", 1)]
    public void AsyncVoid_IsRefusedBeforeItRuns_WithItsLine(string code, int line)
    {
        // An async void body's exception has no task to land in: the verifier refuses it rather than rely on the loop's context.
        VNodeManifest bad = VNode("bad", "bad.csx", code, caps: "  - CAP_LOG_WRITE");
        var e = Assert.Throws<ScriptCheckException>(() =>
            NicScript.Host.Scripting.CSharp.CSharpEngine.Create(bad.Runtime.EntrypointPath, ScriptBudget.ForManifest(1, 16), Cache, CancellationToken.None).Dispose());
        Assert.Contains($"bad.csx:{line}:", e.Message);
        Assert.Contains("async void methods and lambdas are not allowed", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    private const string NetGrants = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE";

    private const string Session = """
        using NicScript.Driver.NetDevice;
        var dev = Net.Device("00:1f.0");
        var info = dev.GetInfo();
        var descs = Dma.Alloc(64 * info.MinDescriptorLength * 8);
        var data = Dma.Alloc(64 * 2048);
        var (session, fifos) = dev.OpenSession("cs", new SessionInfo { Descriptors = descs, Data = data, DescriptorVersion = 1,
            DescriptorLength = info.MinDescriptorLength, DescriptorCount = 64, Options = SessionFlags.PRIMARY });

        """; // 7 lines

    [Theory]
    [InlineData("var readable = await fifos.Rx.WaitReadableAsync(30);\nthrow new InvalidOperationException(\"after the await \" + readable);", 9)]
    [InlineData("async System.Threading.Tasks.Task Later()\n{\n    await fifos.Rx.WaitReadableAsync(30);\n    throw new InvalidOperationException(\"after the await\");\n}\nawait Later();", 11)]
    public void ExceptionInAnAwaitContinuation_FailsOnlyItsVNode_WithOneLine(string code, int line)
    {
        VNodeManifest bad = VNode("bad", "bad.csx", Session + code, caps: NetGrants);
        RunReport report = Run(TimeSpan.FromSeconds(2), bad, Steady());
        VNodeReport r = report.VNodes[0];
        Assert.True(r.Status == VNodeStatus.Failed, $"{r.Status} {r.Error}");
        Assert.Contains("InvalidOperationException: after the await", r.Error);
        Assert.Contains($"bad.csx:{line}:", r.Error);
        Assert.DoesNotContain("\n", r.Error);
        Assert.True(report.VNodes[1].Status == VNodeStatus.Stopped, report.VNodes[1].Error);
        Assert.True(Metric(report.VNodes[1], "packets_rx") > 20, Bystander(report.VNodes[1]));
    }

    [Fact]
    public void AwaitContinuations_RunOnTheLoop_UnderTheBudget()
    {
        // The code after the await spins: on the pool it would run unbounded; on the loop the budget stops it.
        VNodeManifest bad = VNode("bad", "bad.csx", Session + "async System.Threading.Tasks.Task Spin()\n{\n    await fifos.Rx.WaitReadableAsync(30);\n    var x = 0L;\n    while (true) { x++; }\n}\nVNode.After(1, () => { });\nVNode.After(5, () => { _ = Spin(); });", share: 0.05, caps: NetGrants);
        RunReport report = Run(TimeSpan.FromSeconds(5), bad, Steady());
        VNodeReport r = report.VNodes[0];
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("CPU budget exceeded", r.Error);
        Assert.Contains("bad.csx:12:", r.Error);
        Assert.Equal(VNodeStatus.Stopped, report.VNodes[1].Status);
    }

    [Fact]
    public async Task ALoopWhoseWorkItemThrows_FailsOnlyItsOwner()
    {
        var faults = new List<Exception>();
        using var loop = new VNodeLoop("t") { Faulted = e => { lock (faults) faults.Add(e); } };
        Assert.True(loop.TryPost(_ => throw new InvalidOperationException("bug"), null));
        Assert.Equal(7, await loop.InvokeAsync(() => 7)); // it keeps running
        Assert.Equal("bug", Assert.Single(faults).Message);
    }

    [Fact]
    public async Task ALoopsSynchronizationContext_BringsContinuationsBack()
    {
        using var loop = new VNodeLoop("t");
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<bool> onLoop = loop.InvokeAsync(async () =>
        {
            await tcs.Task; // completes on the test's thread
            return loop.IsOnLoop;
        }).Unwrap();
        tcs.SetResult();
        Assert.True(await onLoop);
    }

    // The C# row of the bench ------------------------------------------------------------------------------------------------

    [Collection(NonParallel.Name)]
    public sealed class BenchRatio(ITestOutputHelper output)
    {
        /// <summary>Packets per CPU second of the thread that moved them, so the ratio does not depend on what else the host
        /// runs (two busy loops, the rest of the suite); core and C# alternate and each keeps its best, so a stretch when this
        /// machine's neighbours slow both does not decide it. The issue's bound.</summary>
        private const double Bound = 0.95;

        [Fact]
        public void CSharpLoopback_RunsAtLeast95PercentOfTheCoreLoop_PerCpuSecond()
        {
            var (cs, core) = NicScript.Host.Tests.Cli.Bench.ScriptLoopRatio.BestOf("cs", Bound, TimeSpan.FromSeconds(0.1));
            output.WriteLine($"C# {cs:0.000} vs core {core:0.000} M packets per CPU second ({cs / core:P1})");
            Assert.True(cs >= Bound * core, $"C# {cs:0.000} vs core {core:0.000} M packets per CPU second ({cs / core:P1})");
        }
    }
}
