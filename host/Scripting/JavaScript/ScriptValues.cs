using Jint;
using Jint.Native;
using Jint.Native.Function;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>JavaScript values on their way to the CLR: copied into bounded plain data first, so no conversion recurses or allocates without limit.</summary>
internal static class ScriptValues
{
    /// <summary>How deep an argument may nest (System.Text.Json's and Jint's <c>JSON.parse</c> limit too): deeper is a RangeError.</summary>
    public const int MaxDepth = 64;

    /// <summary>The least a converted element costs (a reference and a boxed number): the unit the memory budget is divided into.</summary>
    public const int BytesPerCell = 16;

    /// <summary>
    /// Copies an array or object into fresh plain data: an array stays an array (holes become <c>undefined</c>), any
    /// other object becomes a plain object of its own enumerable string-keyed properties, each read once (getters and
    /// Proxy traps run here, under the budget, and never again); functions, handles and typed arrays stay as they are.
    /// </summary>
    /// <exception cref="JavaScriptException">A RangeError when <paramref name="value"/> nests deeper than <see cref="MaxDepth"/>.</exception>
    /// <exception cref="ScriptBudgetExceededException">When the copy would hold more than <paramref name="maxCells"/> elements in all: refused before it is made.</exception>
    public static JsValue Copy(Engine engine, ObjectInstance value, long maxCells, ref long cells, Func<string> overBudget) =>
        CopyValue(engine, value, 1, maxCells, ref cells, overBudget);

    private static JsValue CopyValue(Engine engine, JsValue value, int depth, long maxCells, ref long cells, Func<string> overBudget)
    {
        Count(1, maxCells, ref cells, overBudget);
        if (value is not ObjectInstance o || o is Function || o is IObjectWrapper) return value;
        if (o is JsTypedArray typed)
        {
            Count(typed.Length, maxCells, ref cells, overBudget); // converting it copies every element
            return value;
        }
        if (depth > MaxDepth)
            throw ClrErrors.RangeError(engine, $"a value passed to a host call nests more than {MaxDepth} levels deep");
        if (o.IsArray())
        {
            double length = TypeConverter.ToLength(o.Get("length"));
            Count(length, maxCells, ref cells, overBudget);
            var items = new JsValue[(int)length];
            for (int i = 0; i < items.Length; i++) items[i] = CopyValue(engine, o.Get(i), depth + 1, maxCells, ref cells, overBudget);
            return new JsArray(engine, items);
        }
        var copy = new JsObject(engine);
        foreach (JsValue key in o.GetOwnPropertyKeys(Types.String))
        {
            PropertyDescriptor d = o.GetOwnProperty(key);
            if (d == PropertyDescriptor.Undefined || !d.Enumerable) continue;
            copy.FastSetDataProperty(key.ToString(), CopyValue(engine, o.Get(key), depth + 1, maxCells, ref cells, overBudget));
        }
        return copy;
    }

    private static void Count(double n, long maxCells, ref long cells, Func<string> overBudget)
    {
        if (n > maxCells - cells) throw new ScriptBudgetExceededException(overBudget(), cancelled: false);
        cells += (long)n;
    }

    /// <summary>
    /// A script's last value as the CLR value a report or the REPL shows: primitives as they are, arrays and objects
    /// converted from a bounded copy; a value too deep or too large to convert is shown as a short note instead.
    /// </summary>
    public static object? ToClr(Engine engine, JsValue value, long maxCells)
    {
        if (value.IsUndefined()) return null;
        if (value is not ObjectInstance o || o is IObjectWrapper) return value.ToObject();
        if (o is Function) return "[function]";
        long cells = 0;
        try
        {
            return CopyValue(engine, o, 1, maxCells, ref cells, static () => "too large").ToObject();
        }
        catch (Exception e) when (e is JavaScriptException or ScriptBudgetExceededException)
        {
            return o.IsArray() ? "[an array too deep or too large to show]" : "[an object too deep or too large to show]";
        }
    }
}
