using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using NicScript.Driver;
using NicScript.Driver.Interrupts;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>irq</c> global: registers handlers for the lines and vectors <c>CAP_IRQ_REGISTER</c> grants, and no others.</summary>
/// <remarks>
/// A registered interrupt is delivered to the V-Node's loop; interrupts that arrive while a call is queued are
/// coalesced into it (<see cref="IrqEvent.Count"/>). The latency from the device raising it to the handler starting
/// is observed into the V-Node's <c>irq_latency_ns</c> metric when the manifest declares it. An INTx line is
/// level-triggered: after the handler it fires again if the device still asserts it, so a handler must acknowledge the
/// device (e.g. read the virtio ISR); a line that keeps firing unacknowledged is disabled as a storm.
/// </remarks>
public sealed class IrqHandle
{
    /// <summary>Consecutive re-fires of an unacknowledged line before it is disabled (Linux's "nobody cared").</summary>
    public const int StormLimit = 10_000;

    private readonly VNodeContext _ctx;
    private readonly Machine _machine;
    private readonly ConcurrentDictionary<int, Binding> _bindings = new();

    public IrqHandle(VNodeContext ctx, Machine machine)
    {
        _ctx = ctx;
        _machine = machine;
        ctx.OnRelease(Release);
    }

    /// <summary>The lines and vectors this V-Node may register.</summary>
    [ScriptApi]
    public int[] Lines => _ctx.Manifest.Capabilities.Where(g => g.Kind == Manifests.CapabilityKind.IrqRegister && g.Irq is not null)
        .Select(g => g.Irq!.Value).Distinct().Order().ToArray();

    /// <summary>Lines with a handler now.</summary>
    [ScriptApi] public int[] Registered => _bindings.Keys.Order().ToArray();

    /// <summary>Calls <paramref name="handler"/> on this V-Node's loop each time interrupt <paramref name="line"/> fires.</summary>
    [ScriptApi]
    public void Register(int line, Action<IrqEvent> handler)
    {
        if (!_ctx.Manifest.GrantsIrq(line)) throw _ctx.Deny("CAP_IRQ_REGISTER", line.ToString(CultureInfo.InvariantCulture));
        if (!_machine.Interrupts.TryGetValue(line, out Interrupt? interrupt))
            throw new ScriptCallException($"irq.register({line}): no device on machine {_machine.Name} uses interrupt {line}");
        var binding = new Binding(this, interrupt, handler);
        if (!_bindings.TryAdd(line, binding)) throw new ScriptCallException($"irq {line} already has a handler in {_ctx.Name}; unregister it first");
        if (!interrupt.Connect(binding))
        {
            _bindings.TryRemove(line, out _);
            throw new ScriptCallException($"irq {line} ({interrupt.Name}) is registered by another V-Node");
        }
        _ctx.KeepAlive(+1);
    }

    [ScriptApi]
    public void Unregister(int line)
    {
        if (!_ctx.Manifest.GrantsIrq(line)) throw _ctx.Deny("CAP_IRQ_REGISTER", line.ToString(CultureInfo.InvariantCulture));
        if (_bindings.TryRemove(line, out Binding? b))
        {
            b.Interrupt.Disconnect(b);
            _ctx.KeepAlive(-1);
        }
    }

    /// <summary>Disconnects every handler (the V-Node stopped).</summary>
    internal void Release()
    {
        foreach (var (_, b) in _bindings) b.Interrupt.Disconnect(b);
        _bindings.Clear();
    }

    /// <summary>One registered interrupt: coalesces raises, measures latency, calls the handler, ends the interrupt.</summary>
    private sealed class Binding(IrqHandle owner, Interrupt interrupt, Action<IrqEvent> handler) : IInterruptSink
    {
        private int _pending;
        private long _firstRaised;
        private int _refires;

        public Interrupt Interrupt => interrupt;

        public void Deliver(Interrupt source, long raisedTimestamp)
        {
            if (Interlocked.Increment(ref _pending) != 1) return; // a call is queued already: it will count this one too
            Volatile.Write(ref _firstRaised, raisedTimestamp);
            if (owner._ctx.Dispatcher?.Dispatch(static b => b.Run(), this) != true) Interlocked.Exchange(ref _pending, 0);
        }

        private void Run()
        {
            long latencyTicks = Stopwatch.GetTimestamp() - Volatile.Read(ref _firstRaised);
            double latencyNs = latencyTicks * 1e9 / Stopwatch.Frequency;
            int count = Interlocked.Exchange(ref _pending, 0);
            if (owner._ctx.Metrics.TryGet("irq_latency_ns", out Metric m)) m.TryObserve(latencyNs);
            handler(new IrqEvent(interrupt.Number, count, latencyNs));
            if (interrupt is IrqLine line)
            {
                if (!line.Asserted) _refires = 0;
                else if (++_refires >= StormLimit)
                {
                    interrupt.Disconnect(this);
                    throw new ScriptCallException($"irq {interrupt.Number}: interrupt storm — the handler ran {StormLimit} times without acknowledging the device; the line is disabled");
                }
                line.EndOfInterrupt();
            }
        }
    }
}
