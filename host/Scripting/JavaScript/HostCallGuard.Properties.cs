using System.Collections.Concurrent;
using System.Reflection;
using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace NicScript.Host.Scripting.JavaScript;

/// <remarks>
/// Design: a script assigns exactly the properties a C# script may assign (<see cref="ScriptSurface.Settable"/>:
/// <c>dpu.noThrow = true</c>), and nothing else. Jint's <c>AllowWrite</c> cannot say that: it opens every CLR setter,
/// a record's <c>init</c> ones and private ones included, so it stays off and every other member keeps Jint's read-only
/// answer (ignored in sloppy code, a <c>TypeError</c> in strict code). Instead each wrapper of a type with settable
/// properties gets one own data property per such property, under its JavaScript name: Jint's wrapper looks at its own
/// properties before the CLR's, reads them through the descriptor's value and writes them through it too, so the
/// setter is reached only here — with the budget before and after, the value as a bounded copy converted by the
/// marshaller, and the setter's exception as the script's error, as for a method call. The property is not
/// configurable: <c>delete</c> and a redefinition cannot swap it for something else.
/// </remarks>
internal sealed partial class HostCallGuard
{
    private static readonly ConcurrentDictionary<Type, ScriptProperty[]> SettableByType = new();

    /// <summary>A property a script may assign: its JavaScript name, and whether null or undefined is the script's wrong type.</summary>
    private sealed record ScriptProperty(PropertyInfo Property, string Name, bool RefusesNull);

    /// <summary>The engine's wrapper for a CLR object: Jint's own, with the type's settable properties as own properties.</summary>
    public ObjectInstance Wrap(Engine engine, object target, Type? type)
    {
        ObjectInstance wrapper = ObjectWrapper.Create(engine, target, type);
        foreach (ScriptProperty p in Settable(target.GetType()))
            wrapper.FastSetProperty(p.Name, new AssignableProperty(this, engine, target, p));
        return wrapper;
    }

    private JsValue Read(Engine engine, object target, ScriptProperty p)
    {
        try
        {
            return JsValue.FromObject(engine, p.Property.GetValue(target, BindingFlags.DoNotWrapExceptions, null, null, null));
        }
        catch (Exception e) when (!ClrErrors.EndsTheInvocation(e))
        {
            if (Errors?.Invoke(e) ?? true) throw ClrErrors.ToJavaScript(engine, e, p.Name);
            throw;
        }
    }

    private void Assign(Engine engine, object target, ScriptProperty p, JsValue value)
    {
        ScriptBudget.AtHostCall();
        if (p.RefusesNull && (value.IsNull() || value.IsUndefined()))
            throw new JavaScriptException(engine.Intrinsics.TypeError.Construct($"{p.Name}: value is {value}, where a value is needed"));
        if (value is ObjectInstance o && o is not Function && o is not IObjectWrapper)
        {
            long cells = 0;
            value = ScriptValues.Copy(engine, o, budget.MemoryBytes / ScriptValues.BytesPerCell, ref cells, budget.DescribeMemory);
            ScriptBudget.AtHostCall(); // the copy is counted before it is converted
        }
        object? converted;
        try
        {
            converted = ScriptMarshaller.ToProperty(p.Property.PropertyType, value.ToObject(), p.Name);
        }
        catch (ArgumentException e) // the marshaller's message already names the property
        {
            throw ClrErrors.ToJavaScript(engine, e);
        }
        string? outer = Current;
        Current = p.Name;
        try
        {
            p.Property.SetValue(target, converted, BindingFlags.DoNotWrapExceptions, null, null, null);
        }
        catch (Exception e) when (!ClrErrors.EndsTheInvocation(e))
        {
            if (Errors?.Invoke(e) ?? true) throw ClrErrors.ToJavaScript(engine, e, p.Name);
            throw;
        }
        finally
        {
            Current = outer;
        }
        ScriptBudget.AtHostCall();
    }

    private static ScriptProperty[] Settable(Type type) => SettableByType.GetOrAdd(type, static t =>
    {
        var nullability = new NullabilityInfoContext();
        return [.. ScriptSurface.Settable(t).Select(p => new ScriptProperty(p, ScriptSurface.JavaScriptName(p.Name),
            p.PropertyType.IsValueType ? Nullable.GetUnderlyingType(p.PropertyType) is null : nullability.Create(p).WriteState == NullabilityState.NotNull))];
    });

    /// <summary>A settable property as its wrapper's own data property: reading it calls the getter, writing it <see cref="Assign"/>.</summary>
    private sealed class AssignableProperty(HostCallGuard guard, Engine engine, object target, ScriptProperty property)
        : PropertyDescriptor(PropertyFlag.Enumerable | PropertyFlag.Writable | PropertyFlag.CustomJsValue)
    {
        protected override JsValue? CustomValue
        {
            get => guard.Read(engine, target, property);
            set => guard.Assign(engine, target, property, value ?? JsValue.Undefined);
        }
    }
}
