using System.Collections.Immutable;
using System.Reflection.Metadata;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>The types of a script assembly's signatures as <see cref="ScriptAssemblyVerifier"/> judges them, and how it names them in a refusal.</summary>
/// <remarks>
/// Design: a small closed model (decoded by <see cref="ScriptSignatureProvider"/>) rather than reflection types: the
/// assembly is checked before it is loaded, so nothing in it can be resolved. <see cref="Origin"/> says where a named
/// type comes from, which is what the allow-list needs; pointers and refusals are kept as values so a check can say why.
/// </remarks>
internal static class ScriptSignatures
{
    internal enum Origin { Script, Framework, NicScript, Protobuf, Other }

    internal abstract record Sig;
    internal sealed record Prim(PrimitiveTypeCode Code) : Sig;
    internal sealed record Named(string Name, Origin Origin, ImmutableArray<Sig> Args, TypeDefinitionHandle? Definition) : Sig;
    internal sealed record Array(Sig Element) : Sig;
    internal sealed record ByRef(Sig Element) : Sig;
    internal sealed record Pointer(Sig Element) : Sig;
    internal sealed record FunctionPointer : Sig;
    internal sealed record Pinned(Sig Element) : Sig;
    internal sealed record GenericParam(int Index) : Sig;
    internal sealed record Modified(Sig Modifier, Sig Type) : Sig;
    internal sealed record Refused(string Why) : Sig;

    internal static string Display(Sig sig) => sig switch
    {
        Named n => DisplayType(n.Name),
        Array a => Display(a.Element) + "[]",
        _ => sig.ToString() ?? "",
    };

    /// <summary><c>System.Buffers.ArrayPool`1</c> as <c>System.Buffers.ArrayPool</c>: how the source check names it, without arity.</summary>
    internal static string DisplayType(string name)
    {
        var sb = new System.Text.StringBuilder();
        foreach (string part in name.Split('+'))
        {
            if (sb.Length > 0) sb.Append('.');
            int tick = part.IndexOf('`');
            sb.Append(tick < 0 ? part : part[..tick]);
        }
        return sb.ToString();
    }

    internal static string DisplayMember(string type, string member) =>
        DisplayType(type) + "." + (member.StartsWith("get_", StringComparison.Ordinal) ? member[4..]
            : member.StartsWith("set_", StringComparison.Ordinal) ? member[4..] + " (set)" : member);

    /// <summary>A parameter's type as <see cref="ScriptSurface.Shape(Type)"/> spells the same type from reflection.</summary>
    internal static string Shape(Sig sig) => sig switch
    {
        Prim p => "System." + p.Code,
        Named n => n.Name,
        Array a => Shape(a.Element) + "[]",
        ByRef r => Shape(r.Element) + "&",
        GenericParam => "!",
        Modified m => Shape(m.Type),
        _ => "?",
    };
}
