using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>
/// Stack probes on the built-ins Jint's own stack guard does not cover: resuming an iterator that resumes another.
/// A chain of <c>yield*</c> (or of <c>it = it.map(f)</c>) 100,000 deep resumes one iterator inside the next with no
/// interpreted call between them, so nothing probed the stack and the process died. Each of these functions now checks first and throws a
/// RangeError (which unwinds as a completion, cheaply) while there is still stack to unwind on.
/// </summary>
internal static class StackProbes
{
    /// <summary>The prototypes whose <c>next</c> resumes another iterator natively: generators (<c>yield*</c>), iterator helpers (<c>map</c>, <c>filter</c>, … chained), <c>Iterator.from</c> wrappers.</summary>
    private static readonly string[] Delegating =
    [
        "Object.getPrototypeOf(function* () {}).prototype",
        "Object.getPrototypeOf([].values().map(x => x))",
        "Object.getPrototypeOf(Iterator.from({ next() { return { done: true }; } }))",
    ];

    /// <summary>Replaces <c>next</c>, <c>return</c> and <c>throw</c> of those prototypes with probing versions (the originals stay unreachable).</summary>
    public static void Install(Engine engine)
    {
        foreach (string source in Delegating)
        {
            JsValue prototype;
            try { prototype = engine.Evaluate(source); }
            catch (Jint.Runtime.JavaScriptException) { continue; } // a built-in this Jint does not have
            if (prototype is ObjectInstance o)
                foreach (string name in new[] { "next", "return", "throw" })
                    Probe(engine, o, name);
        }
    }

    private static void Probe(Engine engine, ObjectInstance holder, string name)
    {
        PropertyDescriptor d = holder.GetOwnProperty(name);
        if (d == PropertyDescriptor.Undefined || d.Value is not Function original) return;
        var probing = new ClrFunction(engine, name, (self, args) =>
        {
            if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw ClrErrors.RangeError(engine, "Maximum call stack size exceeded");
            return engine.Call(original, self, args);
        }, 1, PropertyFlag.Configurable);
        holder.FastSetProperty(name, new PropertyDescriptor(probing, d.Writable, d.Enumerable, d.Configurable));
    }
}
