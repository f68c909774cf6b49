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

    /// <summary>Runs <paramref name="manifests"/> on <paramref name="machine"/>; denials go to <paramref name="audit"/>.</summary>
    /// <exception cref="UserErrorException">A script does not compile or is refused by the sandbox; nothing ran.</exception>
    /// <param name="traffic">Started once every top level has returned (the built-in peer); the run ends when it completes.</param>
    public async Task<RunReport> RunAsync(string target, IReadOnlyList<VNodeManifest> manifests, Machine machine, AuditLog audit,
        TimeSpan? duration, CancellationToken cancel, Func<Task>? traffic = null)
    {
        var broker = new CapabilityBroker(machine, audit, _log);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var hosts = new List<VNodeHost>();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (VNodeManifest manifest in manifests) // compile everything first: a bad script means nothing runs
            {
                IScriptEngine engine = _engines.Create(manifest, stopping.Token);
                VNodeContext ctx = broker.Admit(manifest);
                hosts.Add(new VNodeHost(ctx, new VNodeGlobals(broker.Handles(ctx)), engine, _log));
            }
            // In listed order, each after the previous top level has returned: a service a later V-Node connects to is
            // served by then (a system lists aethernet before net-bridge).
            foreach (VNodeHost host in hosts)
            {
                host.Start();
                await host.TopLevelDone.WaitAsync(cancel).ConfigureAwait(false);
            }

            Task? trafficDone = traffic?.Invoke();
            while (!cancel.IsCancellationRequested && !(trafficDone?.IsCompleted ?? hosts.All(h => h.Finished)))
            {
                if (duration is { } d && clock.Elapsed >= d) break;
                await Task.Delay(PollInterval, CancellationToken.None).ConfigureAwait(false);
            }
            stopping.Cancel();
            foreach (VNodeHost host in hosts) await host.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            return new RunReport(target, clock.Elapsed, hosts.Select(Report).ToArray(), audit.Denials);
        }
        finally
        {
            foreach (VNodeHost host in hosts)
            {
                int reclaimed = broker.Release(host.Context);
                if (reclaimed > 0) _log.Debug("Reclaimed {Count} DMA buffers of {VNode}", reclaimed, host.Name);
                host.Dispose();
            }
        }
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
            host.HandlerCalls, host.Context.Metrics.All.ToArray());
    }
}
