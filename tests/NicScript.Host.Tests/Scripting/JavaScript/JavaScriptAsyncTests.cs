using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Scripting.JavaScript;

/// <summary>Promises and <c>async</c> functions behave as in Node: reactions run after every callback the V-Node's loop
/// makes, the V-Node lives while something can still settle what it awaits, and an unhandled rejection fails it.</summary>
public sealed class JavaScriptAsyncTests
{
    private const string Sleep = "const sleep = ms => new Promise(r => vnode.after(ms, r));\n";

    /// <summary>The gauge a script reports its result in (the top level's value is a promise by then).</summary>
    private static double Gauge(VNodeReport r) => r.Metrics.Single(m => m.Name == "packets_rx").Value;

    [Fact]
    public void AwaitInALoopOfTimers_ResumesAfterEachOne_ThenCompletes()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + """
            async function main() {
              let sum = 0;
              for (let i = 1; i <= 5; i++) { await sleep(2); sum += i; }
              metrics.set('packets_rx', sum);
            }
            main();
            """);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal(15, Gauge(r));
        Assert.True(r.HandlerCalls >= 5, $"{r.HandlerCalls} handler calls"); // a timer fire per sleep (a fire the loaded loop could not take is offered again and counted again)
    }

    [Fact]
    public void NestedAsyncFunctionsAndChainedThen_AllRun()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + """
            async function inner(x) { await sleep(1); return x * 10; }
            async function outer() { const a = await inner(1); const b = await inner(2); return a + b; }
            outer().then(v => v + 3).then(v => sleep(1).then(() => v)).then(v => metrics.set('packets_rx', v));
            """);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal(33, Gauge(r));
    }

    [Fact]
    public void RejectedPromise_CaughtByTheAwaiter_IsNoFailure()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + """
            async function failLater() { await sleep(1); throw new RangeError('too far'); }
            (async () => {
              try { await failLater(); } catch (e) { metrics.set('packets_rx', e instanceof RangeError ? 7 : 1); }
            })();
            const p = Promise.reject(new Error('handled below, in the same checkpoint'));
            p.catch(() => {});
            """);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal(7, Gauge(r));
    }

    [Fact]
    public void UnhandledRejectionAfterAnAwait_FailsTheVNode_AtTheLineThatThrew()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + """
            async function later() {
              await sleep(2);
              throw new TypeError('late');
            }
            later();
            """);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.EndsWith("/t.js:4:3: unhandled promise rejection: TypeError: late", r.Error);
    }

    [Fact]
    public void UnhandledRejectionOfAPlainValue_IsReportedWhereItWasRejected()
    {
        VNodeReport r = ScriptRun.Single("t.js", "let x = 1;\nPromise.reject(42);\n");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("/t.js:2:", r.Error);
        Assert.EndsWith("unhandled promise rejection: 42", r.Error);
    }

    [Fact]
    public void UnhandledRejection_FromTheCli_IsOneLineAndExit1()
    {
        using var dir = new TempDir();
        dir.Write("t.js", Sleep + "(async () => {\n  await sleep(1);\n  null.send();\n})();\n");
        string manifest = dir.Write("vnode.yml", TestVNode.Manifest("rejects", "  - CAP_LOG_WRITE", "t.js", 16, 0.5));
        var (exit, output, err) = NicscriptProcess.Run(dir.Path, null, TimeSpan.FromMinutes(3), "run", manifest);
        Assert.True(exit == 1, $"exit {exit}\n{output}\n{err}");
        string line = err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]; // the run's one-line reason, after the log
        Assert.EndsWith("t.js:4:3: unhandled promise rejection: TypeError: Cannot read properties of null (reading 'send')", line.Trim());
        Assert.DoesNotContain("   at ", err + output);
    }

    [Fact]
    public void AsyncIpcHandler_AwaitsInsideTheHandler()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + """
            let served = 0;
            ipc.serve('svc://echo', async m => {
              await sleep(1);
              served += Number(m.body);
              metrics.set('packets_rx', served);
              if (served === 5) ipc.close('svc://echo');
            });
            ipc.send('svc://echo', 'N', '2');
            ipc.send('svc://echo', 'N', '3');
            """);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal(5, Gauge(r));
    }

    [Fact]
    public void RunawayLoopInAContinuation_IsStoppedByTheBudget_AtItsLine()
    {
        VNodeReport r = ScriptRun.Single("t.js", Sleep + "(async () => {\n  await sleep(1);\n  let x = 0;\n  while (true) { x++; }\n})();\n", share: 0.05);
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("/t.js:5:", r.Error);
        Assert.Matches("CPU budget exceeded|memory budget exceeded", r.Error!); // x++ past 10240 allocates in Jint: either budget, at its line
    }

    /// <summary>As Node exits when nothing can settle a promise main awaits: nothing pending, so the V-Node ends (the code after the await never runs).</summary>
    [Fact]
    public void AwaitOfAPromiseNothingCanSettle_EndsTheVNode_InsteadOfHanging()
    {
        RunReport run = ScriptRun.Run("t.js", "(async () => {\n  await new Promise(() => {});\n  metrics.set('packets_rx', 1);\n})();\n", duration: TimeSpan.FromMinutes(2));
        VNodeReport r = run.VNodes.Single();
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        Assert.Equal(0, Gauge(r));
        Assert.True(run.Elapsed < TimeSpan.FromMinutes(1), $"ran {run.Elapsed} (a hang guard, not a timing)");
    }
}
