using System.Reflection;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.JavaScript;

public sealed partial class JavaScriptEngine
{
    /// <summary>The property names of the value at <paramref name="path"/> (<c>nic</c>, <c>nic.stats</c>) and of its
    /// prototypes, for the REPL's Tab; null when the path cannot be followed without running the script's code.</summary>
    /// <remarks>
    /// Design: completion must not change what it looks at, so nothing here calls into the script: a path goes only
    /// through data properties (an accessor stops it: its getter could do anything), a proxy stops it (its traps are
    /// code), keys are listed with <c>GetOwnPropertyKeys</c> (which calls no getter). A handle (a CLR object) is looked
    /// at through its type — the <see cref="ScriptSurface"/>'s members under their JavaScript names, and a property's
    /// declared type for the next step — so a handle's getter is not called either; the driver constants a global carries
    /// (<c>net.SessionFlags</c>) are the data properties <see cref="Bind"/> put on its wrapper. A top-level <c>let</c>/<c>const</c>
    /// (not a property of the global object) is read as its binding, and only when <paramref name="declared"/> names it.
    /// </remarks>
    public IReadOnlyList<string>? MemberNames(IReadOnlyList<string> path, IReadOnlySet<string> declared)
    {
        if (path.Count == 0) return null;
        JsValue? value = Root(path[0], declared);
        if (value is null) return null;
        Type? clr = null;
        bool byType = false; // once a step went through a CLR type, value is no longer what the path has reached
        foreach (string step in path.Skip(1))
        {
            clr ??= (value as ObjectWrapper)?.Target?.GetType();
            if (clr is not null && !byType && ScriptSurface.ConstantNames(clr).Contains(step))
            {
                if (DataProperty(value!, step) is not { } constants) return null; // what Bind put on the handle's wrapper
                (value, clr) = (constants, null);
                continue;
            }
            if (clr is not null)
            {
                clr = MemberType(clr, step);
                if (clr is null) return null;
                byType = true;
                continue;
            }
            if (DataProperty(value!, step) is not { } next) return null;
            value = next;
        }
        clr ??= (value as ObjectWrapper)?.Target?.GetType();
        IEnumerable<string> names = clr is not null ? ApiNames(clr) : PropertyNames(value!);
        return names.Where(IsIdentifier).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    private JsValue? Root(string name, IReadOnlySet<string> declared)
    {
        PropertyDescriptor own = _engine.Global.GetOwnProperty(name);
        if (own != PropertyDescriptor.Undefined) return own.IsDataDescriptor() ? own.Value : null;
        if (!declared.Contains(name) || !IsIdentifier(name)) return null;
        using ScriptBudget.Scope scope = _budget.Enter(topLevel: false, _stopping);
        try
        {
            _engine.Constraints.Reset();
            return _engine.Evaluate(name); // a lexical binding: reading it runs nothing
        }
        catch (Exception e) when (e is JavaScriptException or ScriptBudgetExceededException or InvalidOperationException)
        {
            return null; // not yet initialised
        }
    }

    private JsValue? DataProperty(JsValue value, string name)
    {
        ObjectInstance? o = AsObject(value);
        for (int depth = 0; o is not null && !IsProxy(o) && depth < 256; depth++, o = o.Prototype)
        {
            PropertyDescriptor d = o.GetOwnProperty(name);
            if (d == PropertyDescriptor.Undefined) continue;
            return d.IsDataDescriptor() ? d.Value : null;
        }
        return null;
    }

    private IEnumerable<string> PropertyNames(JsValue value)
    {
        var names = new List<string>();
        ObjectInstance? o = AsObject(value);
        for (int depth = 0; o is not null && !IsProxy(o) && depth < 256; depth++, o = o.Prototype)
        {
            if (o is ObjectWrapper { Target: { } target })
            {
                names.AddRange(ApiNames(target.GetType()));
                break;
            }
            foreach (JsValue key in o.GetOwnPropertyKeys(Types.String)) names.Add(key.ToString());
        }
        return names;
    }

    // A primitive's members are its prototype's (no wrapper object is made).
    private ObjectInstance? AsObject(JsValue value) => value switch
    {
        ObjectInstance o => o,
        JsString => PrototypeOf("String"),
        JsNumber => PrototypeOf("Number"),
        JsBoolean => PrototypeOf("Boolean"),
        _ => null,
    };

    private ObjectInstance? PrototypeOf(string constructor) =>
        _engine.Global.GetOwnProperty(constructor) is { } c && c.IsDataDescriptor() && c.Value is ObjectInstance ctor &&
        ctor.GetOwnProperty("prototype") is { } p && p.IsDataDescriptor() ? p.Value as ObjectInstance : null;

    // Jint keeps its proxy type internal; a test proves a proxy's traps are not run by completion.
    private static bool IsProxy(ObjectInstance o) => o.GetType().Name == "JsProxy";

    private static IEnumerable<string> ApiNames(Type type) =>
        ScriptSurface.Members(type).Select(m => ScriptSurface.Name(m, ScriptLanguage.JavaScript)).Concat(ScriptSurface.ConstantNames(type));

    private static Type? MemberType(Type type, string name) => ScriptSurface.Member(type, name, ScriptLanguage.JavaScript) switch
    {
        PropertyInfo p => p.PropertyType,
        FieldInfo f => f.FieldType,
        _ => null, // a method: its result needs a call
    };

    private static bool IsIdentifier(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsLetterOrDigit(c) || c is '_' or '$');
}
