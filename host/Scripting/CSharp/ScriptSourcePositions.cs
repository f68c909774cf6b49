using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Places a refusal of <see cref="ScriptAssemblyVerifier"/> in the script's source, from the sequence points of the embedded portable PDB.</summary>
/// <remarks>Design: checks carry a cheap <see cref="Where"/>; the PDB is read only for what is reported. No PDB, or no point: no position (the caller names the file alone).</remarks>
internal sealed class ScriptSourcePositions
{
    private readonly MetadataReader _md;
    private readonly MetadataReader? _pdb;
    private readonly Func<string, string> _display;

    public ScriptSourcePositions(MetadataReader md, MetadataReader? pdb, Func<string, string> display)
    {
        _md = md;
        _pdb = pdb;
        _display = display;
    }

    /// <summary>Where a check is: a method and IL offset, or a type; resolved to a source position only when something is reported.</summary>
    internal readonly record struct Where(MethodDefinitionHandle Method, int Offset, TypeDefinitionHandle Type);

    internal readonly record struct Position(string File, int Line, int Column);

    internal static readonly Where None = default;

    internal static Where TypeLocation(TypeDefinitionHandle type) => new(default, 0, type);

    internal static Where MethodLocation(MethodDefinitionHandle method, int offset) => new(method, offset, default);

    internal Position? Resolve(Where at) =>
        !at.Method.IsNil ? ResolveMethod(at.Method, at.Offset, typeFallback: true) : !at.Type.IsNil ? ResolveType(at.Type) : null;

    private Position? ResolveType(TypeDefinitionHandle type)
    {
        TypeDefinition t = _md.GetTypeDefinition(type);
        foreach (MethodDefinitionHandle m in t.GetMethods())
            if (ResolveMethod(m, 0, typeFallback: false) is { } p) return p;
        foreach (TypeDefinitionHandle nested in t.GetNestedTypes())
            if (ResolveType(nested) is { } p) return p;
        return null;
    }

    /// <summary>The source position of IL offset <paramref name="offset"/>: the last visible sequence point at or before it.</summary>
    /// <remarks>Without points of its own: its state machine's (async, iterators), else its type's first (a compiler-generated helper).</remarks>
    private Position? ResolveMethod(MethodDefinitionHandle method, int offset, bool typeFallback)
    {
        if (_pdb is null) return null;
        SequencePoint? best = null, first = null;
        foreach (SequencePoint sp in _pdb.GetMethodDebugInformation(method.ToDebugInformationHandle()).GetSequencePoints())
        {
            if (sp.IsHidden) continue;
            first ??= sp;
            if (sp.Offset <= offset) best = sp;
        }
        if ((best ?? first) is not { } p)
        {
            foreach (MethodDefinitionHandle m in _md.MethodDefinitions)
                if (m != method && _pdb.GetMethodDebugInformation(m.ToDebugInformationHandle()).GetStateMachineKickoffMethod() == method)
                    return ResolveMethod(m, 0, typeFallback: false);
            return typeFallback ? ResolveType(_md.GetMethodDefinition(method).GetDeclaringType()) : null;
        }
        string file = _pdb.GetString(_pdb.GetDocument(p.Document).Name);
        return new Position(_display(file), p.StartLine, p.StartColumn);
    }
}
