using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;
using Google.Protobuf;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>
/// The one door from JavaScript into a handle's <see cref="ScriptApiAttribute"/> methods and property setters: the
/// budget is checked before and after each call, and the arguments reach Jint's binding as a bounded copy of plain data.
/// </summary>
/// <remarks>
/// Design: Jint binds a CLR method's arguments with <c>JsValue.ToObject()</c>, which copies a JS array into a CLR array
/// (a sparse <c>new Array(1e8)</c> becomes 800 MB) and recurses over nested arrays and objects on the native stack —
/// all before any budget check runs, and reading getters and Proxy traps a second time after anything we could check.
/// So Jint's <see cref="Options.InteropOptions.MemberAccessor"/> hands out, for every <c>[ScriptApi]</c> method, a
/// function that first copies each array or object argument into fresh plain data (<see cref="ScriptValues.Copy"/>:
/// at most <see cref="ScriptValues.MaxDepth"/> levels, at most what the memory budget could hold — refused before
/// anything is allocated), checks the budget (<see cref="ScriptBudget.AtHostCall"/>), calls Jint's own binding with the
/// copy, and checks again. Jint then converts data nobody can change under it. Numbers, strings and handles pass as
/// they are, so the data path pays one function call and two budget readings per host call, and allocates nothing: a
/// call whose arguments leave the binding no choice runs through a delegate compiled once per method
/// (<see cref="CompiledInvoker"/>) instead of Jint's reflection binding, which still decides every other call.
/// The guard for a method is made once per target object (a <see cref="ConditionalWeakTable{TKey,TValue}"/>): the
/// function Jint resolved is bound to that target, so two targets never share one; it then sits on the target's wrapper
/// as an own property, so later reads do not come back here. Assignments: HostCallGuard.Properties.cs.
/// </remarks>
internal sealed partial class HostCallGuard(ScriptBudget budget)
{
    private static readonly ConcurrentDictionary<Type, Dictionary<string, ScriptMethod>> MethodsByType = new();

    /// <summary>A method group's overloads: per overload which parameters refuse null; per position the type the
    /// <see cref="ScriptMarshaller"/> makes from plain data (null where the overloads differ or Jint's binding suffices);
    /// the compiled lane of a method without overloads whose signature it binds exactly (<see cref="CompiledInvoker"/>).</summary>
    private sealed record ScriptMethod(bool[][] NotNull, Type?[] Marshalled, CompiledInvoker? Fast);

    private readonly ConditionalWeakTable<object, Dictionary<string, JsValue>> _guards = new();
    private bool _resolving;

    /// <summary>The engine's interop exception handler (a handle's exception as the script's error), for the marshaller's errors too.</summary>
    public Options.ExceptionHandlerDelegate? Errors { get; set; }

    /// <summary>The host method running now (its JavaScript name), for the message of an exception it throws.</summary>
    public string? Current { get; private set; }

    /// <summary>The member accessor: a guarded function for a <c>[ScriptApi]</c> method, null (Jint's own lookup) for anything else.</summary>
    public JsValue? Access(Engine engine, object target, string member)
    {
        if (_resolving || member.Length == 0) return null;
        string name = char.ToLowerInvariant(member[0]) == member[0] ? member : ScriptSurface.JavaScriptName(member); // no string made on the common path
        if (!ScriptMethods(target.GetType()).TryGetValue(name, out ScriptMethod? overloads)) return null;
        Dictionary<string, JsValue> guards = _guards.GetOrCreateValue(target);
        if (guards.TryGetValue(member, out JsValue? known)) return known;

        JsValue resolved;
        _resolving = true; // the lookup below comes back through this accessor: let Jint answer it
        try { resolved = ObjectWrapper.Create(engine, target, target.GetType()).Get(member); }
        finally { _resolving = false; }
        if (resolved is not Function method) return null;

        var guard = new ClrFunction(engine, member, (self, args) => Call(engine, target, member, overloads, method, self, args), 0, PropertyFlag.Configurable);
        guards[member] = guard;
        Remember(engine, target, member, guard);
        return guard;
    }

    /// <summary>
    /// Puts the guard on the target's wrapper as the own property this accessor reports it as (same value, same flags:
    /// enumerable, neither writable nor configurable), so the next <c>nic.tx</c> is found by Jint's own-property lookup
    /// without asking the accessor again (no lookups by type and target, no descriptor made per read). The wrapper is
    /// the engine's recent one for the target (the one asking, nearly always); on any other wrapper of the same target
    /// the property says exactly what the accessor would, and a wrapper without it still asks the accessor.
    /// </summary>
    private void Remember(Engine engine, object target, string member, JsValue guard)
    {
        _resolving = true; // a wrapper made here (the recent one was dropped) must not come back through Access
        try
        {
            // no own property of a wrapper can hold this name already: settable properties and driver constants are named
            // apart from methods, and a script cannot define one (the accessor answers non-configurable for it first)
            if (JsValue.FromObject(engine, target) is ObjectWrapper wrapper)
                wrapper.FastSetProperty(member, new PropertyDescriptor(guard, PropertyFlag.OnlyEnumerable));
        }
        finally { _resolving = false; }
    }

    private JsValue Call(Engine engine, object target, string member, ScriptMethod overloads, Function method, JsValue self, JsValue[] arguments)
    {
        ScriptBudget.AtHostCall();
        RefuseNulls(engine, member, overloads.NotNull, arguments);
        JsValue[] args = arguments;
        long cells = 0;
        for (int i = 0; i < arguments.Length; i++)
        {
            if (arguments[i] is not ObjectInstance o || o is Function || o is IObjectWrapper) continue;
            if (ReferenceEquals(args, arguments)) args = [.. arguments];
            args[i] = ScriptValues.Copy(engine, o, budget.MemoryBytes / ScriptValues.BytesPerCell, ref cells, budget.DescribeMemory);
        }
        if (!ReferenceEquals(args, arguments)) ScriptBudget.AtHostCall(); // the copy is counted before Jint converts it
        JsValue result;
        string? outer = Current;
        Current = member;
        try
        {
            try
            {
                args = Marshal(engine, overloads.Marshalled, args, arguments);
            }
            catch (Exception e) when (!ClrErrors.EndsTheInvocation(e)) // the call's own bad-argument error, as if the handle threw it
            {
                if (Errors?.Invoke(e) ?? true) throw ClrErrors.ToJavaScript(engine, e, member);
                throw;
            }
            if (overloads.Fast is not { } fast || !fast.TryInvoke(engine, target, self, args, Errors, out result))
                result = engine.Call(method, self, args); // Jint's binding: overloads, conversions, defaults, another receiver
        }
        catch (Exception e) when (!ClrErrors.EndsTheInvocation(e)) // what Jint's binding let through (a conversion that overflowed)
        {
            throw ClrErrors.ToJavaScript(engine, e, member);
        }
        finally
        {
            Current = outer;
        }
        ScriptBudget.AtHostCall();
        return result is IObjectWrapper { Target: IMessage reply } ? JsValue.FromObject(engine, ScriptMarshaller.ToScript(reply)) : result;
    }

    /// <summary>Each plain object, string, number or boolean at a position the marshaller fills becomes the typed value the
    /// handle takes, or the call's own error naming what was expected (a number where <c>gdma.encode</c> wants fields).</summary>
    private static JsValue[] Marshal(Engine engine, Type?[] marshalled, JsValue[] args, JsValue[] arguments)
    {
        for (int i = 0; i < args.Length && i < marshalled.Length; i++)
        {
            if (marshalled[i] is not { } type) continue;
            bool plain = args[i] is ObjectInstance o ? o is not Function && o is not IObjectWrapper : args[i] is JsString or JsNumber or JsBoolean;
            if (!plain) continue;
            if (ReferenceEquals(args, arguments)) args = [.. arguments];
            args[i] = JsValue.FromObject(engine, ScriptMarshaller.FromScript(type, args[i].ToObject()));
        }
        return args;
    }

    /// <summary>
    /// A null or undefined argument where every overload's parameter is a non-nullable reference (by the C# nullable
    /// annotations) is the script's wrong type — a TypeError here — not a NullReferenceException inside the handle.
    /// </summary>
    private static void RefuseNulls(Engine engine, string member, bool[][] overloads, JsValue[] arguments)
    {
        for (int i = 0; i < arguments.Length; i++)
        {
            if (!arguments[i].IsNull() && !arguments[i].IsUndefined()) continue;
            bool accepted = false;
            foreach (bool[] notNull in overloads) accepted |= i < notNull.Length && !notNull[i];
            if (!accepted)
                throw new JavaScriptException(engine.Intrinsics.TypeError.Construct($"{member}: argument {i + 1} is {arguments[i]}, where a value is needed"));
        }
    }

    /// <summary>A type's <c>[ScriptApi]</c> methods by camelCase name.</summary>
    private static Dictionary<string, ScriptMethod> ScriptMethods(Type type) => MethodsByType.GetOrAdd(type, static t =>
    {
        var nullability = new NullabilityInfoContext();
        return ScriptSurface.Methods(t)
            .GroupBy(m => ScriptSurface.Name(m, ScriptLanguage.JavaScript), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g =>
            {
                Type?[] marshalled = Marshalled([.. g.Select(m => m.GetParameters())]);
                return new ScriptMethod(
                    g.Select(m => m.GetParameters().Select(p => RefusesNull(nullability, p)).ToArray()).ToArray(),
                    marshalled,
                    g.Count() == 1 && marshalled.All(t => t is null) ? CompiledInvoker.For(g.Single()) : null);
            }, StringComparer.Ordinal);
    });

    /// <summary>Per position, the one parameter type every overload that has the position agrees on, when the marshaller makes it.</summary>
    private static Type?[] Marshalled(ParameterInfo[][] overloads)
    {
        var types = new Type?[overloads.Max(ps => (int?)ps.Length) ?? 0];
        for (int i = 0; i < types.Length; i++)
        {
            Type[] at = [.. overloads.Where(ps => i < ps.Length).Select(ps => ps[i].ParameterType).Distinct()];
            types[i] = at is [var only] && ScriptMarshaller.Converts(only) ? only : null;
        }
        return types;
    }

    private static bool RefusesNull(NullabilityInfoContext nullability, ParameterInfo p) =>
        !p.ParameterType.IsValueType && !(p.HasDefaultValue && p.DefaultValue is null) && nullability.Create(p).WriteState == NullabilityState.NotNull;
}
