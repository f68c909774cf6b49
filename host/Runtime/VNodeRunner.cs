using System.Diagnostics;
using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Runtime;

/// <summary>Runs one or more V-Nodes together on one machine until they finish, fail, or the duration ends.</summary>
public sealed class VNodeRunner
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);
    private readonly ILogger _log;
    private readonly ScriptEngineFactory _engines;

    public VNodeRunner(ILogger log, ScriptEngineFactory engines)
    {
        _log = log;
        _engines = engines;
    }

    /// <summary>The services families keep for the run (the DPU's agent), which their handles reach through the broker.</summary>
    public RunServices Services { get; init; } = new();

    /// <summary>How often a V-Node that failed in a handler is started again before it stays failed (0: never; the CLI's default is 3).</summary>
    public int RestartLimit { get; init; }

    /// <summary>The first restart waits this long; each further one twice as long, up to 5 s.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs <paramref name="manifests"/> on <paramref name="machine"/>; denials go to <paramref name="audit"/>.</summary>
    /// <param name="traffic">Started once every top level has returned (the built-in peer); the run ends when it completes.</param>
    /// <exception cref="UserErrorException">A script does not compile or is refused by the sandbox; nothing ran.</exception>
    /// <remarks>
    /// Supervision: a V-Node that fails in a handler (its script threw, overran its budget, ...) is stopped, its DMA buffers, frames,
    /// channels and interrupts are released, and after a backoff it starts again from its top level, up to
    /// <see cref="RestartLimit"/> times; the other V-Nodes keep running throughout.
    /// </remarks>
    public async Task<RunReport> RunAsync(string target, IReadOnlyList<VNodeManifest> manifests, Machine machine, AuditLog audit,
        TimeSpan? duration, CancellationToken cancel, Func<Task>? traffic = null)
    {
        var broker = new CapabilityBroker(machine, audit, _log) { Services = Services };
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var slots = new List<Slot>();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (VNodeManifest manifest in manifests) // compile everything first: a bad script means nothing runs
                slots.Add(new Slot(manifest, Launch(broker, manifest, stopping.Token)));
            _slots = slots.ToArray(); // exporters read it from other threads
            // In listed order, each after the previous top level has returned: a service a later V-Node connects to is
            // served by then (a system lists aethernet before net-bridge).
            foreach (Slot slot in slots)
            {
                slot.Host.Start();
                // Ctrl+C (cancel) during a top level is the user stopping the run: no exception, the V-Nodes stop below and the report is made.
                await Task.WhenAny(slot.Host.TopLevelDone, Task.Delay(Timeout.Infinite, cancel)).ConfigureAwait(false);
                if (cancel.IsCancellationRequested) break;
            }

            Task? trafficDone = cancel.IsCancellationRequested ? null : traffic?.Invoke();
            while (!cancel.IsCancellationRequested && !(trafficDone?.IsCompleted ?? slots.All(s => s.Host.Finished && !WillRestart(s))))
            {
                if (duration is { } d && clock.Elapsed >= d) break;
                foreach (Slot slot in slots) await SuperviseAsync(broker, slot, clock.Elapsed, stopping.Token).ConfigureAwait(false);
                await Task.Delay(PollInterval, CancellationToken.None).ConfigureAwait(false);
            }
            stopping.Cancel();
            foreach (Slot slot in slots) await slot.Host.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            return new RunReport(target, clock.Elapsed, slots.Select(s => Report(s.Host) with { Restarts = s.Restarts }).ToArray(), audit.Denials);
        }
        finally
        {
            _slots = [];
            foreach (Slot slot in slots) Retire(broker, slot.Host);
        }
    }

    // Only a V-Node that started and then failed in a handler is restarted: a top level that fails would fail again.
    private IReadOnlyList<Slot> _slots = [];

    /// <summary>The contexts of the V-Node instances running now (for exporters; changes when one restarts).</summary>
    public IEnumerable<VNodeContext> Live => _slots.Select(s => s.Host.Context).ToArray();

    private bool WillRestart(Slot slot) => slot.Host.Failed && slot.Host.Started && slot.Restarts < RestartLimit;

    private VNodeHost Launch(CapabilityBroker broker, VNodeManifest manifest, CancellationToken stopping)
    {
        IScriptEngine engine = _engines.Create(manifest, stopping);
        VNodeContext ctx = broker.Admit(manifest);
        return new VNodeHost(ctx, new VNodeGlobals(broker.Handles(ctx)), engine, _log);
    }

    private void Retire(CapabilityBroker broker, VNodeHost host)
    {
        int reclaimed = broker.Release(host.Context);
        if (reclaimed > 0) _log.Debug("Reclaimed {Count} DMA buffers of {VNode}", reclaimed, host.Name);
        host.Dispose();
    }

    private async Task SuperviseAsync(CapabilityBroker broker, Slot slot, TimeSpan now, CancellationToken stopping)
    {
        if (!WillRestart(slot)) return;
        if (slot.RestartAt is null)
        {
            double backoffMs = Math.Min(5000, RestartBackoff.TotalMilliseconds * Math.Pow(2, slot.Restarts));
            slot.RestartAt = now + TimeSpan.FromMilliseconds(backoffMs);
            _log.Warning("{VNode} failed ({Reason}); restarting in {Backoff} ms ({Restart} of {Limit})",
                slot.Host.Name, (slot.Host.Outcome as ScriptOutcome.Failed)?.Reason, backoffMs, slot.Restarts + 1, RestartLimit);
            return;
        }
        if (now < slot.RestartAt) return;
        await slot.Host.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        Retire(broker, slot.Host); // buffers, frames, channels and interrupts go back before the new instance asks for them
        slot.Host = Launch(broker, slot.Manifest, stopping);
        slot.Restarts++;
        slot.RestartAt = null;
        _log.Information("{VNode} restarted ({Restart} of {Limit})", slot.Host.Name, slot.Restarts, RestartLimit);
        slot.Host.Start();
    }

    private sealed class Slot(VNodeManifest manifest, VNodeHost host)
    {
        public VNodeManifest Manifest { get; } = manifest;
        public VNodeHost Host { get; set; } = host;
        public int Restarts { get; set; }
        public TimeSpan? RestartAt { get; set; }
    }

    private static VNodeReport Report(VNodeHost host)
    {
        (VNodeStatus status, string? error, object? result) = host.Outcome switch
        {
            ScriptOutcome.Failed f => (VNodeStatus.Failed, $"{f.At}: {f.Reason}", (object?)null),
            ScriptOutcome.Cancelled => (VNodeStatus.Cancelled, null, null),
            ScriptOutcome.Completed c when host.Context.Pending > 0 => (VNodeStatus.Stopped, null, c.Value),
            ScriptOutcome.Completed c => (VNodeStatus.Completed, null, c.Value),
            _ => (VNodeStatus.Stopped, null, null),
        };
        return new VNodeReport(host.Name, host.Context.Manifest.Runtime.EntrypointPath, status, error, result,
            host.HandlerCalls, host.Context.Metrics.All.ToArray()) { CpuTime = host.CpuTime };
    }
}
