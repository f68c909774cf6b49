using System.Dynamic;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using NicScript.Driver;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Scripting;

/// <summary>
/// The one conversion between a script's plain data and the typed records, maps and enums the handles take: a plain
/// object (string-keyed, as Jint hands it), an array, a number, an enum by NAME or number, into the parameter's type; a
/// protobuf reply back into a plain object with the seed's field names.
/// </summary>
/// <remarks>
/// Design: the handles and the driver take only typed values (<see cref="SessionInfo"/>, <see cref="TrafficSpec"/>,
/// <c>NewPortRequest</c> …); C# scripts build them with initializers, JavaScript passes <c>{descriptorCount: 64}</c>
/// and the engine's host-call door asks <see cref="FromScript"/> for the typed value before the handle runs. A field
/// is found by the property's camelCase name or its snake_case name (the seed's: <c>source_port</c>,
/// <c>path_mtu</c>); a property-bag type (a public parameterless constructor) takes its <see cref="ScriptApiAttribute"/>
/// properties when it marks any, else every settable one; a positional record takes its constructor's parameters
/// (a parameter with no default is required) and, given a scalar, that scalar as its first. A missing field keeps
/// the type's default; an unknown field, a wrong type or a number out of the target's range is an error that names
/// the field and what was expected, thrown the way the call it feeds reports bad arguments (<see cref="Site"/>).
/// A string-keyed map (<c>IReadOnlyDictionary&lt;string, ulong&gt;</c>, the GDMA codec's fields) has no field list of
/// its own: every key is kept as the script spelled it and every value converted to the map's value type; which keys
/// exist is the handle's to say (it knows the structure the map is for), the same check for C# and JavaScript.
/// Protobuf messages go through protobuf's own JSON mapping (proto field names), both ways.
/// </remarks>
internal static class ScriptMarshaller
{
    /// <summary>Where a script's value lands: the words errors start with, whether field lists use the seed's
    /// snake_case, and the exception the call throws for a bad argument.</summary>
    private sealed record Site(string Where, bool SeedNames, Func<string, Exception> Error)
    {
        public Exception Fail(string what) => Error($"{Where}: {what}");
    }

    private static readonly Func<string, Exception> Zx = m => new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, m);
    private static readonly Func<string, Exception> Call = m => new ScriptCallException(m);

    /// <summary>The calls' own words for their arguments (reference/netdevice.md §8, the DPU wire, rdma_connect_ex).</summary>
    private static readonly Dictionary<Type, Site> Sites = new()
    {
        [typeof(SessionInfo)] = new("OpenSession", false, Zx),
        [typeof(BufferDescriptor)] = new("DescriptorTable.set", false, Zx),
        [typeof(PortOptions)] = new("AddPort", false, Zx),
        [typeof(PortStatusUpdate)] = new("SetStatus", false, Zx),
        [typeof(RxInjectOptions)] = new("InjectRx", false, Zx),
        [typeof(TrafficSpec)] = new("dpu wire configure", true, Call),
        [typeof(RdmaConnectOptions)] = new("rdma_connect_ex", true, Call),
        [typeof(IReadOnlyDictionary<string, ulong>)] = new("gdma.encode", true, Call), // field values by their Linux names
    };

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    /// <summary>True for a parameter type a script may pass as plain data: a registered record, a protobuf message, an enum.</summary>
    public static bool Converts(Type type)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsEnum || Sites.ContainsKey(t) || typeof(IMessage).IsAssignableFrom(t);
    }

    /// <summary>
    /// <paramref name="value"/> (plain data: a string-keyed dictionary, an array, a number, a string, a bool, or already a
    /// CLR value) as a <paramref name="type"/>; throws the call's own bad-argument exception naming the field.
    /// </summary>
    public static object? FromScript(Type type, object? value)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        Site site = SiteOf(t);
        if (typeof(IMessage).IsAssignableFrom(t) && !t.IsInstanceOfType(value)) return Message(t, value, site);
        return Convert(type, value, site, "argument");
    }

    /// <summary>
    /// <paramref name="value"/> (plain data, or already a CLR value) as a <paramref name="type"/> for the property a script
    /// assigns as <paramref name="name"/>; a wrong type throws an <see cref="ArgumentException"/> naming the property
    /// (<c>noThrow: value must be true or false, got 1</c>), which the script catches as a <c>TypeError</c>.
    /// </summary>
    public static object? ToProperty(Type type, object? value, string name) =>
        Convert(type, value, new Site(name, false, m => new ArgumentException(m)), "value");

    /// <summary>A protobuf reply as a plain object: every field by its proto name, zeros included; bytes as hex, 64-bit numbers as numbers.</summary>
    public static ExpandoObject ToScript(IMessage reply)
    {
        using JsonDocument doc = JsonDocument.Parse(Formatter.Format(reply));
        return (ExpandoObject)ToObject(doc.RootElement, reply.Descriptor)!;
    }

    private static Site SiteOf(Type t) =>
        Sites.TryGetValue(t, out Site? site) ? site
        : typeof(IMessage).IsAssignableFrom(t) ? new("dpu." + (t.Name.EndsWith("Request", StringComparison.Ordinal) ? t.Name[..^"Request".Length] : t.Name), true, Call)
        : new(t.Name, false, Call);

    private static object? Convert(Type type, object? v, Site site, string field)
    {
        if (v is null) return null;
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(object) || (t.IsInstanceOfType(v) && v is not IDictionary<string, object?>)) return v;
        if (t.IsEnum) return Enum(t, v, site, field);
        if (t == typeof(bool)) return v as bool? ?? throw site.Fail($"{field} must be true or false, got {v}");
        if (t == typeof(string)) return v is string or double or int or long or bool ? System.Convert.ToString(v, CultureInfo.InvariantCulture) : throw site.Fail($"{field} must be a string, got {v}");
        if (t == typeof(double) || t == typeof(float)) return System.Convert.ChangeType(Number(v, site, field), t, CultureInfo.InvariantCulture);
        if (IntegerRange(t) is { } range) return System.Convert.ChangeType(Whole(v, range.Min, range.Max, site, field), t, CultureInfo.InvariantCulture);
        if (t.IsArray) return Array(t.GetElementType()!, v, site, field);
        if (typeof(IMessage).IsAssignableFrom(t)) return Message(t, v, site);
        if (v is IDictionary<string, object?> map && MapValueType(t) is { } valueType) return Map(valueType, map, site);
        if (v is IDictionary<string, object?> d) return Record(t, d, site);
        if (PositionalConstructor(t) is { } ctor && ctor.GetParameters() is [var first, ..] ps && ps.Skip(1).All(p => p.HasDefaultValue))
            return ctor.Invoke([Convert(first.ParameterType, v, site, field), .. ps.Skip(1).Select(p => p.DefaultValue)]);
        throw site.Fail($"{field} must be {Describe(t)}, got {Shown(v)}");
    }

    private static double Number(object v, Site site, string field)
    {
        if (v is string or bool) throw site.Fail($"{field} must be a number, got {v}");
        try { return System.Convert.ToDouble(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is InvalidCastException or FormatException) { throw site.Fail($"{field} must be a number, got {v}"); }
    }

    private static long Whole(object v, long min, long max, Site site, string field)
    {
        double x = Number(v, site, field);
        if (x != Math.Floor(x) || x < min || x > max) throw site.Fail($"{field} = {x} is not a whole number in {min}..{max}");
        return (long)x;
    }

    /// <summary>An integer type's range as a script's number can hold it (64-bit ones up to 2^53, what a double counts exactly).</summary>
    private static (long Min, long Max)? IntegerRange(Type t) => System.Type.GetTypeCode(t) switch
    {
        TypeCode.Byte => (0, byte.MaxValue),
        TypeCode.SByte => (sbyte.MinValue, sbyte.MaxValue),
        TypeCode.UInt16 => (0, ushort.MaxValue),
        TypeCode.Int16 => (short.MinValue, short.MaxValue),
        TypeCode.UInt32 => (0, uint.MaxValue),
        TypeCode.Int32 => (int.MinValue, int.MaxValue),
        TypeCode.UInt64 => (0, 1L << 53),
        TypeCode.Int64 => (-(1L << 53), 1L << 53),
        _ => null,
    };

    /// <summary>An enum by its NAME (as the enum type spells it) or by number within its underlying type's range.</summary>
    private static object Enum(Type t, object v, Site site, string field)
    {
        if (v is string name)
        {
            foreach (string known in System.Enum.GetNames(t))
                if (string.Equals(known, name, StringComparison.Ordinal)) return System.Enum.Parse(t, known);
            throw site.Fail($"{field} '{name}' is not a {t.Name} ({string.Join(", ", System.Enum.GetNames(t))})");
        }
        var (min, max) = IntegerRange(System.Enum.GetUnderlyingType(t))!.Value;
        return System.Enum.ToObject(t, Whole(v, min, max, site, field));
    }

    private static System.Array Array(Type element, object v, Site site, string field)
    {
        if (v is not System.Collections.IEnumerable items || v is string || v is IDictionary<string, object?>) throw site.Fail($"{field} must be a list, got {v}");
        var list = new List<object?>();
        foreach (object? item in items) list.Add(Convert(element, item, site, $"{field}[{list.Count}]"));
        var array = System.Array.CreateInstance(element, list.Count);
        for (int i = 0; i < list.Count; i++) array.SetValue(list[i], i);
        return array;
    }

    private static object Record(Type t, IDictionary<string, object?> d, Site site)
    {
        if (t.GetConstructor(System.Type.EmptyTypes) is { } empty)
        {
            PropertyInfo[] settable = [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true })];
            PropertyInfo[] fields = settable.Any(IsScriptApi) ? [.. settable.Where(IsScriptApi)] : settable;
            object o = empty.Invoke(null);
            foreach (var (key, value) in d)
            {
                PropertyInfo p = fields.FirstOrDefault(f => Names(f.Name, key)) ?? throw Unknown(key, fields.Select(f => f.Name), site);
                if (value is null && p.PropertyType.IsValueType && Nullable.GetUnderlyingType(p.PropertyType) is null) continue; // null: the default
                p.SetValue(o, Convert(p.PropertyType, value, site, key));
            }
            return o;
        }
        ConstructorInfo ctor = PositionalConstructor(t) ?? throw site.Fail($"cannot be made from an object");
        ParameterInfo[] ps = ctor.GetParameters();
        foreach (string key in d.Keys)
            if (!ps.Any(p => Names(p.Name!, key))) throw Unknown(key, ps.Select(p => p.Name!), site);
        object?[] args = new object?[ps.Length];
        for (int i = 0; i < ps.Length; i++)
        {
            string? key = d.Keys.FirstOrDefault(k => Names(ps[i].Name!, k));
            args[i] = key is not null && d[key] is { } value ? Convert(ps[i].ParameterType, value, site, key)
                : ps[i].HasDefaultValue ? ps[i].DefaultValue
                : throw site.Fail($"missing field {Spell(ps[i].Name!, site)}");
        }
        return ctor.Invoke(args);
    }

    /// <summary>The value type of a string-keyed map type a handle may take (<c>IReadOnlyDictionary</c>, <c>IDictionary</c>,
    /// <c>Dictionary</c> of <c>string</c> to it), else null.</summary>
    private static Type? MapValueType(Type t) =>
        t.IsGenericType && t.GetGenericArguments() is [var key, var value] && key == typeof(string)
            && t.GetGenericTypeDefinition() is var g && (g == typeof(IReadOnlyDictionary<,>) || g == typeof(IDictionary<,>) || g == typeof(Dictionary<,>))
            ? value : null;

    /// <summary>Each value converted to <paramref name="valueType"/> under its key; a null value is the type's default, so its key is still checked.</summary>
    private static object Map(Type valueType, IDictionary<string, object?> d, Site site)
    {
        var map = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType))!;
        object? none = valueType.IsValueType ? Activator.CreateInstance(valueType) : null;
        foreach (var (key, value) in d) map[key] = value is null ? none : Convert(valueType, value, site, key);
        return map;
    }

    private static bool IsScriptApi(PropertyInfo p) => p.IsDefined(typeof(ScriptApiAttribute), inherit: true);

    private static ConstructorInfo? PositionalConstructor(Type t) =>
        t.IsClass && !t.IsAbstract ? t.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault() : null;

    private static Exception Unknown(string key, IEnumerable<string> known, Site site) =>
        site.Fail($"unknown field {key} (known: {string.Join(", ", known.Select(n => Spell(n, site)))})");

    /// <summary>True when a script's <paramref name="key"/> names the member <paramref name="name"/>: its camelCase or snake_case spelling.</summary>
    private static bool Names(string name, string key) =>
        string.Equals(Camel(name), key, StringComparison.Ordinal) || string.Equals(Snake(name), key, StringComparison.Ordinal);

    private static string Spell(string name, Site site) => site.SeedNames ? Snake(name) : Camel(name);

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static string Snake(string name)
    {
        var s = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) s.Append('_');
            s.Append(char.ToLowerInvariant(name[i]));
        }
        return s.ToString();
    }

    private static string Describe(Type t) =>
        MapValueType(t) is { } value ? $"an object of names to {(IntegerRange(value) is not null ? "whole numbers" : value.Name + " values")}"
        : t.IsInterface ? $"a {t.Name.TrimStart('I')}" : $"a {t.Name}";

    /// <summary>A script's value as an error shows it: a list or an object by what it is, not by its CLR type name.</summary>
    private static object Shown(object v) => v switch
    {
        IDictionary<string, object?> => "an object",
        System.Collections.IEnumerable and not string => "a list",
        _ => v,
    };

    /// <summary>A protobuf request from plain data, through protobuf's JSON mapping (field names as in the .proto).</summary>
    private static IMessage Message(Type t, object? v, Site site)
    {
        var descriptor = (MessageDescriptor)t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        string json = JsonSerializer.Serialize(v);
        try
        {
            return JsonParser.Default.Parse(json, descriptor);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw site.Fail(e.Message);
        }
    }

    private static object? ToObject(JsonElement e, MessageDescriptor? d)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                IDictionary<string, object?> o = new ExpandoObject();
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    var field = d?.FindFieldByName(p.Name);
                    o[p.Name] = field?.FieldType == FieldType.Bytes && p.Value.ValueKind == JsonValueKind.String
                        ? System.Convert.ToHexStringLower(System.Convert.FromBase64String(p.Value.GetString()!))
                        : ToObject(p.Value, field?.FieldType == FieldType.Message ? field.MessageType : null);
                }
                return (ExpandoObject)o;
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(x => ToObject(x, d)).ToArray();
            case JsonValueKind.String:
                string s = e.GetString()!;
                return double.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out double n) && s.Length < 20 ? n : s;
            case JsonValueKind.Number:
                return e.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
