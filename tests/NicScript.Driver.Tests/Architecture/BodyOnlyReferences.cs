using System.Dynamic;

namespace NicScript.Driver.Tests.Architecture;

/// <summary>A sample for <see cref="DriverRulesTests"/>: names a JavaScript shape and a capability only inside method
/// bodies (a local, a lambda's closure, a string), where a reflection-only check over signatures would not look.</summary>
internal static class BodyOnlyReferences
{
    public static int Count(string key)
    {
        IDictionary<string, object?> shape = new Dictionary<string, object?> { [key] = 1 };
        Func<object> make = () => new ExpandoObject { };
        return shape.Count + (make() is null ? 0 : 1) + "CAP_SAMPLE".Length;
    }
}
