using System.Reflection;

namespace NicScript.Host.Families;

/// <summary>Driver constants a script global carries, read from the driver's own type by reflection: an enum's members, or
/// a static class's public <c>const</c> fields, each under the name the driver declares (reference/netdevice.md §8.1,
/// reference/rdma.md §2.1). No member is listed anywhere else.</summary>
/// <param name="Global">The <c>VNodeGlobals</c> property that carries them (PascalCase, as <see cref="ScriptHandle.Global"/>).</param>
/// <param name="Type">An enum or a static class with public constants.</param>
/// <param name="Spread">False: grouped under the type's name; true: each constant by itself (see the remarks).</param>
/// <remarks>
/// Design: a C# type cannot grow members at run time, so each language reaches the one type its own way:
/// <list type="bullet">
/// <item>grouped (<see cref="Grouped"/>): JavaScript has <c>net.SessionFlags.PRIMARY</c>, a frozen object named after
/// the type on the global; C# names the type itself, <c>SessionFlags.PRIMARY</c>, its namespace imported by default;</item>
/// <item>spread (<see cref="Bare"/>), for C names that carry their own prefix (the seed's <c>RDMA_WC_SUCCESS</c>):
/// JavaScript has <c>rdma.RDMA_WC_SUCCESS</c> and the global <c>RDMA_WC_SUCCESS</c>; C# the bare name, the type
/// imported statically.</item>
/// </list>
/// A value is a number in JavaScript and the driver's own constant in C#, which the sandbox lets a script name because
/// it is declared here (<c>ScriptSurface</c>). The type is checked when the declaration is made.
/// </remarks>
public sealed record ScriptConstants(string Global, Type Type, bool Spread)
{
    /// <summary>The constants, in declaration order.</summary>
    public IReadOnlyList<FieldInfo> Members { get; } = Literals(Type);

    /// <summary>The name a grouped declaration is reached by, in both languages: the type's (<c>SessionFlags</c>).</summary>
    public string Name => Type.Name;

    /// <summary>The constants of <paramref name="type"/> under its name on <paramref name="global"/>: <c>net.FrameType.ETHERNET</c>.</summary>
    public static ScriptConstants Grouped(string global, Type type) => new(global, type, Spread: false);

    /// <summary>The constants of <paramref name="type"/> each by itself, on <paramref name="global"/> and as bare names: <c>RDMA_WC_SUCCESS</c>.</summary>
    public static ScriptConstants Bare(string global, Type type) => new(global, type, Spread: true);

    /// <summary>A constant's value as JavaScript has it: a number (an enum's underlying value; <c>0x80000000</c> stays positive).</summary>
    public static double Number(FieldInfo constant) =>
        Convert.ToDouble(constant.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);

    private static FieldInfo[] Literals(Type type)
    {
        bool staticClass = type is { IsClass: true, IsAbstract: true, IsSealed: true };
        if (!type.IsEnum && !staticClass) throw new ArgumentException($"{type}: script constants come from an enum or a static class", nameof(type));
        FieldInfo[] literals = type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).ToArray();
        return literals.Length > 0 ? literals : throw new ArgumentException($"{type} declares no public constant", nameof(type));
    }
}
