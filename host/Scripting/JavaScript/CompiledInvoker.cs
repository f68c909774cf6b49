using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>
/// A <c>[ScriptApi]</c> method called through a delegate compiled once per method, for the calls whose binding is
/// beyond doubt; every other call declines and takes Jint's reflection binding, which decides it as before.
/// </summary>
/// <remarks>
/// Design: Jint's own compiled lane (4.18) takes only numbers, strings and booleans, so a handle argument
/// (<c>nic.tx(b)</c>) sent every call through <c>MethodInfo.Invoke</c> (boxing, an argument array, the binder, a
/// closure and a host-call frame in <c>Engine.Call</c>). This lane takes what that binding would have produced with no
/// choice in it, and declines everything else before anything runs: exactly as many arguments as parameters (no
/// defaults, no params array), a number only when it is integral and in range for an <c>int</c>/<c>long</c>
/// parameter (Jint's own test), a string only as a <see cref="JsString"/>, a boolean only as a <see cref="JsBoolean"/>,
/// and a handle only as a wrapper whose target is an instance of the parameter's class (what Jint's converter passes);
/// the receiver only when it is the wrapper of the very object the method was looked up on. A method with overloads, a
/// type the marshaller builds, or a parameter of another kind never gets a lane. The result becomes a JS value as
/// Jint's binding makes it (<c>void</c> is <c>null</c>), and an exception the method throws takes Jint's route for it
/// (<c>Throw.MeaningfulException</c>): the engine's exception handler decides what the script sees.
/// </remarks>
internal sealed class CompiledInvoker
{
    private delegate bool Invoker(object target, JsValue[] arguments, Engine engine, out JsValue result);

    private readonly Invoker _invoke;

    private CompiledInvoker(Invoker invoke) => _invoke = invoke;

    /// <summary>Calls the method on <paramref name="target"/> when the arguments bind beyond doubt; false (nothing ran) otherwise.</summary>
    /// <exception cref="Exception">What the method threw, after the engine's exception handler saw it (as Jint's binding does).</exception>
    public bool TryInvoke(Engine engine, object target, JsValue self, JsValue[] arguments, Options.ExceptionHandlerDelegate? errors, out JsValue result)
    {
        if (self is not IObjectWrapper wrapper || !ReferenceEquals(wrapper.Target, target))
        {
            result = JsValue.Undefined;
            return false; // another receiver (f.call(x)): Jint's binding resolves it, as before
        }
        try
        {
            return _invoke(target, arguments, engine, out result);
        }
        catch (Exception e)
        {
            Surface(engine, e, errors);
            throw; // unreachable: Surface always throws
        }
    }

    /// <summary>Jint's <c>Throw.MeaningfulException</c> for what a bound method threw: Jint's own exceptions and the few
    /// it never hands to the handler propagate; anything else goes to the handler, which throws the script's error or
    /// returns false for an exception that ends the invocation (thrown on as it is).</summary>
    private static void Surface(Engine engine, Exception e, Options.ExceptionHandlerDelegate? errors)
    {
        if (e is not (JintException or RegexMatchTimeoutException or PlatformNotSupportedException or OutOfMemoryException)
            && (errors?.Invoke(e) ?? false))
            throw new JavaScriptException(engine.Intrinsics.Error.Construct(e.Message));
        ExceptionDispatchInfo.Capture(e).Throw();
    }

    /// <summary>The lane for <paramref name="method"/>, or null when its signature is not one the lane binds exactly.</summary>
    public static CompiledInvoker? For(MethodInfo method)
    {
        if (method.IsStatic || method.IsGenericMethod || method.DeclaringType is not { IsValueType: false } declaring) return null;
        ParameterInfo[] parameters = method.GetParameters();
        if (parameters.Any(p => !Bindable(p)) || !Returnable(method.ReturnType)) return null;

        ParameterExpression target = Expression.Parameter(typeof(object), "target");
        ParameterExpression args = Expression.Parameter(typeof(JsValue[]), "arguments");
        ParameterExpression engine = Expression.Parameter(typeof(Engine), "engine");
        ParameterExpression result = Expression.Parameter(typeof(JsValue).MakeByRefType(), "result");
        LabelTarget decline = Expression.Label(typeof(bool), "decline");
        var locals = new List<ParameterExpression>();
        var body = new List<Expression>
        {
            Expression.Assign(result, Expression.Constant(JsValue.Undefined, typeof(JsValue))),
            Expression.IfThen(Expression.NotEqual(Expression.ArrayLength(args), Expression.Constant(parameters.Length)),
                Expression.Return(decline, Expression.Constant(false))),
        };
        var bound = new Expression[parameters.Length];
        for (int i = 0; i < parameters.Length; i++) bound[i] = Bind(i, parameters[i].ParameterType, args, decline, locals, body);

        Expression call = Expression.Call(Expression.Convert(target, declaring), method, bound);
        body.Add(Converted(call, method.ReturnType, engine, result));
        body.Add(Expression.Return(decline, Expression.Constant(true)));
        body.Add(Expression.Label(decline, Expression.Constant(false)));
        var lambda = Expression.Lambda<Invoker>(Expression.Block(typeof(bool), locals, body), target, args, engine, result);
        return new CompiledInvoker(lambda.Compile());
    }

    private static bool Bindable(ParameterInfo p)
    {
        Type t = p.ParameterType;
        if (t.IsByRef || t.IsPointer || t.IsByRefLike || p.IsDefined(typeof(ParamArrayAttribute))) return false;
        if (t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(bool) || t == typeof(string)) return true;
        return Handle(t);
    }

    /// <summary>A class a wrapper's target is passed as (a handle): not a type Jint or the marshaller converts to.</summary>
    private static bool Handle(Type t) =>
        t.IsClass && t != typeof(object) && t != typeof(string) && !t.IsArray && !typeof(Delegate).IsAssignableFrom(t)
        && !typeof(JsValue).IsAssignableFrom(t) && !typeof(Task).IsAssignableFrom(t) && !ScriptMarshaller.Converts(t);

    private static bool Returnable(Type t) =>
        t == typeof(void) || t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(bool) || t == typeof(string) || Handle(t);

    private static Expression Bind(int index, Type type, ParameterExpression args, LabelTarget decline, List<ParameterExpression> locals, List<Expression> body)
    {
        ParameterExpression arg = Expression.Variable(typeof(JsValue), "a" + index);
        locals.Add(arg);
        body.Add(Expression.Assign(arg, Expression.ArrayIndex(args, Expression.Constant(index))));
        Expression Decline(Expression when) => Expression.IfThen(when, Expression.Return(decline, Expression.Constant(false)));

        if (type == typeof(string))
        {
            body.Add(Decline(Expression.Not(Expression.TypeIs(arg, typeof(JsString)))));
            return Expression.Call(arg, typeof(object).GetMethod(nameof(ToString), Type.EmptyTypes)!);
        }
        if (type == typeof(bool))
        {
            body.Add(Decline(Expression.Not(Expression.TypeIs(arg, typeof(JsBoolean)))));
            return Expression.Call(typeof(JsValueExtensions).GetMethod(nameof(JsValueExtensions.AsBoolean), [typeof(JsValue)])!, arg);
        }
        if (type == typeof(int) || type == typeof(long) || type == typeof(double))
        {
            body.Add(Decline(Expression.Not(Expression.TypeIs(arg, typeof(JsNumber)))));
            ParameterExpression d = Expression.Variable(typeof(double), "d" + index);
            locals.Add(d);
            body.Add(Expression.Assign(d, Expression.Call(typeof(JsValueExtensions).GetMethod(nameof(JsValueExtensions.AsNumber), [typeof(JsValue)])!, arg)));
            if (type == typeof(double)) return d;
            // Jint's test (InteropHelper.TryConvertNumberFast): integral and in range, else its binder decides (it rounds or throws)
            Expression low = Expression.Constant(type == typeof(int) ? (double)int.MinValue : long.MinValue);
            Expression outside = type == typeof(int)
                ? Expression.GreaterThan(d, Expression.Constant((double)int.MaxValue))
                : Expression.GreaterThanOrEqual(d, Expression.Constant(9223372036854775808d));
            body.Add(Decline(Expression.OrElse(
                Expression.OrElse(Expression.Call(typeof(double).GetMethod(nameof(double.IsNaN), [typeof(double)])!, d),
                    Expression.NotEqual(Expression.Call(typeof(Math).GetMethod(nameof(Math.Floor), [typeof(double)])!, d), d)),
                Expression.OrElse(Expression.LessThan(d, low), outside))));
            return Expression.Convert(d, type);
        }
        // a handle: the wrapper's target itself, when it is one (anything else — a plain object, null — declines)
        ParameterExpression clr = Expression.Variable(typeof(object), "o" + index);
        locals.Add(clr);
        body.Add(Decline(Expression.Not(Expression.TypeIs(arg, typeof(IObjectWrapper)))));
        body.Add(Expression.Assign(clr, Expression.Property(Expression.Convert(arg, typeof(IObjectWrapper)), nameof(IObjectWrapper.Target))));
        body.Add(Decline(Expression.Not(Expression.TypeIs(clr, type))));
        return Expression.Convert(clr, type);
    }

    /// <summary>The result as Jint's binding converts it: <c>void</c> → <c>null</c>, primitives by Jint's implicit
    /// conversions, a handle through <see cref="JsValue.FromObjectWithType"/> (the engine's wrap handler).</summary>
    private static Expression Converted(Expression call, Type type, ParameterExpression engine, ParameterExpression result)
    {
        if (type == typeof(void)) return Expression.Block(call, Expression.Assign(result, Expression.Constant(JsValue.Null, typeof(JsValue))));
        if (type != typeof(int) && type != typeof(long) && type != typeof(double) && type != typeof(bool) && type != typeof(string))
            return Expression.Assign(result, Expression.Call(typeof(JsValue).GetMethod(nameof(JsValue.FromObjectWithType), [typeof(Engine), typeof(object), typeof(Type)])!,
                engine, Expression.Convert(call, typeof(object)), Expression.Constant(type, typeof(Type))));
        return Expression.Assign(result, Expression.Call(typeof(JsValue).GetMethod("op_Implicit", [type])!, call));
    }
}
