using System.Collections.Concurrent;
using NicScript.Host.Manifests;

namespace NicScript.Host.Capabilities;

/// <summary>The <c>irq</c> global: registers handlers for the lines and vectors <c>CAP_IRQ_REGISTER</c> grants, and no others.</summary>
public sealed class IrqHandle
{
    private readonly VNodeContext _ctx;
    private readonly ConcurrentDictionary<int, Action<IrqEvent>> _handlers = new();

    public IrqHandle(VNodeContext ctx) => _ctx = ctx;

    /// <summary>The lines this V-Node may register.</summary>
    [ScriptApi]
    public int[] Lines => _ctx.Manifest.Capabilities.Where(g => g.Kind == CapabilityKind.IrqRegister && g.Irq is not null)
        .Select(g => g.Irq!.Value).Distinct().Order().ToArray();

    /// <summary>Lines with a handler now.</summary>
    [ScriptApi] public int[] Registered => _handlers.Keys.Order().ToArray();

    /// <summary>Calls <paramref name="handler"/> on this V-Node's loop each time <paramref name="line"/> fires.</summary>
    [ScriptApi]
    public void Register(int line, Action<IrqEvent> handler)
    {
        if (!_ctx.Manifest.GrantsIrq(line)) throw _ctx.Deny("CAP_IRQ_REGISTER", line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!_handlers.TryAdd(line, handler)) throw new ScriptCallException($"irq {line} already has a handler in {_ctx.Name}; unregister it first");
        _ctx.KeepAlive(+1);
    }

    [ScriptApi]
    public void Unregister(int line)
    {
        if (!_ctx.Manifest.GrantsIrq(line)) throw _ctx.Deny("CAP_IRQ_REGISTER", line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_handlers.TryRemove(line, out _)) _ctx.KeepAlive(-1);
    }

    /// <summary>The handler for <paramref name="line"/>, for the runtime that delivers interrupts.</summary>
    internal bool TryGetHandler(int line, out Action<IrqEvent> handler) => _handlers.TryGetValue(line, out handler!);
}
