using System.Collections.Frozen;
using System.Reflection;
using NicScript.Host.Families;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting;

/// <summary>What of a CLR type a script sees, and what each member is called there: the one rule both engines, the
/// REPL (completion, tables) and the C# checks (sandbox, IL verifier, completion) ask.</summary>
/// <remarks>
/// Design: the surface is an allow-list. A member is on it when it, or the member it overrides, carries
/// <see cref="ScriptApiAttribute"/> (the attribute type, as the attribute's <c>Inherited = true</c> says; never a name
/// compared as a string). Nothing else is: no <see cref="object"/> member, no accessor method, nothing non-public.
/// What a script reaches on a value is what Jint reaches (its default binding flags): the instance's properties and
/// fields, and methods, instance or static. An indexer is on the surface but has no name: scripts reach it with
/// <c>[key]</c>, so it is never listed as a member.
/// <para>Names: C# sees the declared name (<c>RxPoll</c>). JavaScript sees it with the first letter lower-cased
/// (<c>rxPoll</c>; <c>rdma_reg_mr</c> stays; an all-capitals constant <c>RX_OVERRUN</c> becomes <c>rX_OVERRUN</c>, which
/// Jint's name comparer, blind to the first letter's case, still finds as <c>RX_OVERRUN</c>). The globals are the one
/// exception: JavaScript has them wholly lower-cased (<c>VNode</c> → <c>vnode</c>, <c>Pci</c> → <c>pci</c>).</para>
/// <para>Constants: the driver types a global's declarations name (<see cref="ScriptConstants"/>, read from
/// <see cref="DeviceFamilies.Constants"/>) are on the surface too — their constants, not their other members — so the
/// sandbox lets C# name <c>SessionFlags.PRIMARY</c> and JavaScript finds <c>net.SessionFlags.PRIMARY</c>, each under
/// the name the driver declares.</para>
/// </remarks>
internal static class ScriptSurface
{
    /// <summary>The driver types whose constants scripts name.</summary>
    private static readonly FrozenSet<Type> ConstantTypes = DeviceFamilies.Constants.Select(c => c.Type).ToFrozenSet();

    /// <summary>Whether scripts may reach <paramref name="member"/> (and a type's members are filtered by it in Jint): a
    /// <see cref="ScriptApiAttribute"/> member, or a constant of a type declared as <see cref="ScriptConstants"/>.</summary>
    public static bool IsVisible(MemberInfo member) =>
        Attribute.IsDefined(member, typeof(ScriptApiAttribute), inherit: true) ||
        member is FieldInfo { IsLiteral: true, DeclaringType: { } declaring } && ConstantTypes.Contains(declaring);

    /// <summary>The named members a script reaches on a value of <paramref name="type"/>: properties (not indexers) and
    /// fields of the instance, methods (instance or static) that are not accessors.</summary>
    public static IEnumerable<MemberInfo> Members(Type type) =>
        Properties(type).Concat<MemberInfo>(type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(IsVisible)).Concat(Methods(type));

    /// <summary>The named properties a script reads on a value of <paramref name="type"/>, in declaration order.</summary>
    public static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && IsVisible(p));

    /// <summary>The named properties a script may assign on a value of <paramref name="type"/>: exactly those a C# script
    /// may assign — a public setter that is not <c>init</c>, on a class (a struct's property would change a copy).</summary>
    /// <remarks>A record's positional properties are <c>init</c>: a returned record stays read-only in both languages.</remarks>
    public static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.IsValueType ? [] : Properties(type).Where(p => p.SetMethod is { IsPublic: true } set &&
            !set.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)));

    /// <summary>The methods a script calls on a value of <paramref name="type"/> (instance or static, never an accessor).</summary>
    public static IEnumerable<MethodInfo> Methods(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Where(m => !m.IsSpecialName && IsVisible(m));

    /// <summary>The member of <paramref name="type"/> a script names <paramref name="name"/> in <paramref name="language"/>; the first, when overloads share it.</summary>
    public static MemberInfo? Member(Type type, string name, ScriptLanguage language) =>
        Members(type).FirstOrDefault(m => Name(m, language) == name);

    /// <summary>What <paramref name="member"/> is called in <paramref name="language"/>: <c>RxPoll</c> in C#, <c>rxPoll</c> in JavaScript.</summary>
    public static string Name(MemberInfo member, ScriptLanguage language) =>
        language == ScriptLanguage.JavaScript ? JavaScriptName(member.Name) : member.Name;

    /// <summary>A member's JavaScript name from its CLR name: the first letter lower-cased (<c>RxPoll</c> → <c>rxPoll</c>).</summary>
    public static string JavaScriptName(string clrName) => char.ToLowerInvariant(clrName[0]) + clrName[1..];

    /// <summary>The handles a script has as globals: the <see cref="ScriptApiAttribute"/> properties of <see cref="VNodeGlobals"/>.</summary>
    public static IReadOnlyList<PropertyInfo> Globals { get; } = typeof(VNodeGlobals).GetProperties().Where(IsVisible).ToArray();

    /// <summary>The driver constants the global of type <paramref name="handle"/> carries; none for any other type.</summary>
    public static IReadOnlyList<ScriptConstants> Constants(Type handle) => ConstantsByHandle.GetValueOrDefault(handle) ?? [];

    private static readonly FrozenDictionary<Type, ScriptConstants[]> ConstantsByHandle = Globals.ToFrozenDictionary(
        g => g.PropertyType, g => DeviceFamilies.Constants.Where(c => c.Global == g.Name).ToArray());

    /// <summary>The names a global of type <paramref name="handle"/> has for its constants in JavaScript, beside its members:
    /// a grouped type's name (<c>SessionFlags</c>), a spread type's constants (<c>RDMA_WC_SUCCESS</c>).</summary>
    public static IEnumerable<string> ConstantNames(Type handle) =>
        Constants(handle).SelectMany(c => c.Spread ? c.Members.Select(m => m.Name) : [c.Name]);

    /// <summary>The names the constants add to a script's top level: the spread ones (<c>RDMA_WC_SUCCESS</c>, globals in
    /// JavaScript, imported statically in C#), and in C# the grouped types' names (<c>SessionFlags</c>, imported).</summary>
    public static IEnumerable<string> TopLevelConstantNames(ScriptLanguage language) =>
        DeviceFamilies.Constants.SelectMany(c => c.Spread ? c.Members.Select(m => m.Name) : language == ScriptLanguage.CSharp ? [c.Name] : []);

    /// <summary>What a C# script imports: the namespace of each global's type, so the types a handle hands out are named as
    /// plainly as the global (<c>RdmaWc</c>, <c>DmaBuffer</c>, wherever the family's folder puts them), and the constants as
    /// the declarations say: a grouped type's namespace (<c>SessionFlags.PRIMARY</c>), a spread type statically
    /// (<c>RDMA_WC_SUCCESS</c>).</summary>
    public static IEnumerable<string> CSharpImports =>
        Globals.Select(g => g.PropertyType.Namespace!)
            .Concat(DeviceFamilies.Constants.Select(c => c.Spread ? c.Type.FullName!.Replace('+', '.') : c.Type.Namespace!))
            .Distinct(StringComparer.Ordinal);

    /// <summary>What a global is called in <paramref name="language"/>: <c>VNode</c> in C#, <c>vnode</c> (wholly lower-cased) in JavaScript.</summary>
    public static string GlobalName(PropertyInfo global, ScriptLanguage language) =>
        language == ScriptLanguage.JavaScript ? global.Name.ToLowerInvariant() : global.Name;

    /// <summary>A NicScript type (host or driver) by its metadata name (<c>NicScript.Host.Capabilities.DmaHandle</c>,
    /// nested types after <c>+</c>, generic arity after <c>`</c>), as a C# script's reference names it; null for any other.</summary>
    public static Type? ClrType(string metadataName) =>
        typeof(VNodeGlobals).Assembly.GetType(metadataName) ?? typeof(NicScript.Driver.Machine).Assembly.GetType(metadataName);

    /// <summary>Whether a C# use of <paramref name="member"/> (a metadata name: <c>Alloc</c>, <c>get_Name</c>, <c>.ctor</c>)
    /// of <paramref name="type"/> with <paramref name="parameters"/> parameters reaches the surface: every overload of the
    /// name with that many parameters must be visible, unless <paramref name="shapes"/> (each parameter's type as
    /// <see cref="Shape(Type)"/> spells it) names exactly one overload, which then decides alone.</summary>
    /// <remarks>Design: an unmarked overload can never be picked by accident (fail closed), yet <c>Write(ushort[])</c> is
    /// visible though the unmarked <c>Write(ReadOnlySpan&lt;ushort&gt;)</c> beside it is not. An accessor is decided by its property.</remarks>
    public static bool IsVisible(Type type, string member, int parameters, IReadOnlyList<string>? shapes)
    {
        if (shapes is not null && shapes.Count == parameters && Property(member) == member) // accessors: the property decides
        {
            MethodBase[] exact = type.GetMember(member, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .OfType<MethodBase>()
                .Where(b => b.GetParameters() is var ps && ps.Length == parameters && ps.Select(x => Shape(x.ParameterType)).SequenceEqual(shapes, StringComparer.Ordinal))
                .ToArray();
            if (exact.Length == 1) return IsVisible(exact[0]);
        }
        return IsVisibleByArity(type, member, parameters);
    }

    /// <summary>A parameter type as metadata spells it: <c>System.UInt16[]</c>, <c>System.ReadOnlySpan`1</c>, <c>!</c> for a type parameter.</summary>
    public static string Shape(Type t) =>
        t.IsByRef ? Shape(t.GetElementType()!) + "&"
        : t.IsArray ? Shape(t.GetElementType()!) + "[]"
        : t.IsGenericParameter ? "!"
        : t.IsGenericType ? t.GetGenericTypeDefinition().FullName ?? t.Name
        : t.FullName ?? t.Name;

    private static bool IsVisibleByArity(Type type, string member, int parameters)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
        string name = Property(member);
        bool accessor = name != member;
        var found = new List<bool>();
        if (accessor && type.GetProperty(name, all) is { } p)
        {
            MethodInfo? m = member.StartsWith("get_", StringComparison.Ordinal) ? p.GetGetMethod() : p.GetSetMethod();
            return m is not null && IsVisible(p);
        }
        foreach (MemberInfo m in type.GetMember(member, all))
        {
            int count = m switch { MethodBase b => b.GetParameters().Length, _ => 0 };
            if (m is MethodBase && count != parameters) continue;
            found.Add(IsVisible(m));
        }
        return found.Count > 0 && found.All(x => x);
    }

    private static string Property(string member) =>
        member.StartsWith("get_", StringComparison.Ordinal) || member.StartsWith("set_", StringComparison.Ordinal) ? member[4..] : member;
}
