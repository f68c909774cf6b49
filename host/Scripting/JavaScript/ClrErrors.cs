using System.Text.Json;
using Jint;
using Jint.Native;
using Jint.Native.Error;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>How CLR exceptions from host calls reach a script, and how whatever a script throws is told in one line.</summary>
/// <remarks>
/// Design: an exception a handle throws is the script's to catch, as the JS error a JavaScript programmer expects —
/// <c>TypeError</c> for a value of the wrong type or shape, <c>RangeError</c> for a value out of range, <c>Error</c>
/// otherwise — with the exception's message on one line. What ends the invocation instead is not the script's to
/// catch: the budget and cancellation, Jint's own limits, and the exceptions that mean NicScript itself is broken
/// (a null dereference, a corrupted state), which keep their stack trace for the log.
/// </remarks>
internal static class ClrErrors
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Engine, ErrorConstructor> RangeErrors = new();

    /// <summary>Keeps the engine's own <c>RangeError</c> (Jint's intrinsics do not expose it) before any script can replace the global.</summary>
    public static void Remember(Engine engine) => RangeErrors.AddOrUpdate(engine, (ErrorConstructor)engine.Global.Get("RangeError"));

    /// <summary>A RangeError made by the engine's own constructor, whatever the script did to the global.</summary>
    public static JavaScriptException RangeError(Engine engine, string message) =>
        new(RangeErrors.TryGetValue(engine, out ErrorConstructor? c) ? c.Construct(message) : engine.Intrinsics.Error.Construct(message));

    /// <summary>True for exceptions that end the invocation rather than reach the script's <c>catch</c>.</summary>
    public static bool EndsTheInvocation(Exception e) =>
        e is JintException or ScriptBudgetExceededException or OperationCanceledException or OutOfMemoryException
            or NullReferenceException or AccessViolationException or InvalidProgramException or TypeLoadException;

    /// <summary>The JS error a script catches for <paramref name="e"/>, its message prefixed with <paramref name="call"/> when given.</summary>
    public static JavaScriptException ToJavaScript(Engine engine, Exception e, string? call = null)
    {
        string message = OneLine(e switch
        {
            InsufficientExecutionStackException => "Maximum call stack size exceeded",
            OverflowException => "a number is out of range for this call",   // "Arithmetic operation resulted in an overflow."
            _ => e.Message,
        });
        if (call is not null) message = $"{call}: {message}";
        return e switch
        {
            ArgumentOutOfRangeException or OverflowException or IndexOutOfRangeException or KeyNotFoundException
                or InsufficientExecutionStackException => RangeError(engine, message),
            ArgumentException or InvalidCastException or FormatException or JsonException or NotSupportedException =>
                new JavaScriptException(engine.Intrinsics.TypeError.Construct(message)),
            _ => new JavaScriptException(engine.Intrinsics.Error.Construct(message)),
        };
    }

    /// <summary>Collapses a multi-line message (ArgumentOutOfRangeException adds "Actual value was …" on a line of its own).</summary>
    public static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// What a script threw, in one line, without running any of its code: <c>name: message</c> read from data
    /// properties only (a getter, a <c>toString</c> or a <c>valueOf</c> that throws or loops is never called), a
    /// symbol by its description, a primitive as its string.
    /// </summary>
    public static string Describe(JsValue thrown)
    {
        if (thrown is JsSymbol symbol) return symbol.ToString();
        if (thrown is not ObjectInstance o) return OneLine(thrown.ToString());
        if (IsProxy(o)) return "uncaught exception: a Proxy";
        string? message = DataString(o, "message");
        string? name = DataString(o, "name");
        if (message is null) return name is null ? "uncaught exception: an object that is not an Error" : $"{name} (its message could not be read)";
        return OneLine(name is null or "Error" ? message : $"{name}: {message}");
    }

    /// <summary>The <c>stack</c> Jint recorded on an Error (data property only, never a getter); null when there is none.</summary>
    public static string? DataStack(ObjectInstance o) => IsProxy(o) ? null : DataString(o, "stack");

    /// <summary>A string-valued data property on <paramref name="o"/> or its prototypes; null when absent, not a string, behind a getter or a Proxy.</summary>
    private static string? DataString(ObjectInstance o, string key)
    {
        ObjectInstance? at = o;
        for (int hops = 0; at is not null && hops < 64; hops++, at = at.Prototype)
        {
            if (IsProxy(at)) return null;
            PropertyDescriptor d = at.GetOwnProperty(key);
            if (d == PropertyDescriptor.Undefined) continue;
            return d.IsDataDescriptor() && d.Value is JsString s ? s.ToString() : null;
        }
        return null;
    }

    /// <summary>Jint keeps its Proxy type internal; a proxy's traps are script code, which formatting never runs.</summary>
    private static bool IsProxy(ObjectInstance o) => o.GetType().FullName == "Jint.Native.JsProxy";
}
