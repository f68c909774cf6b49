using System.Collections.Immutable;
using System.Reflection.Metadata;
using static NicScript.Host.Scripting.CSharp.ScriptSignatures;
using Array = NicScript.Host.Scripting.CSharp.ScriptSignatures.Array;
using Pointer = NicScript.Host.Scripting.CSharp.ScriptSignatures.Pointer;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Decodes a script assembly's signatures into <see cref="ScriptSignatures"/> and names its types by their metadata names.</summary>
/// <remarks>Design: a type reference's <see cref="Origin"/> comes from the assembly it resolves to: an earlier REPL submission is the script's own.</remarks>
internal sealed class ScriptSignatureProvider : ISignatureTypeProvider<Sig, object?>
{
    private readonly MetadataReader _md;
    private readonly IReadOnlySet<string> _scriptAssemblies;

    public ScriptSignatureProvider(MetadataReader md, IReadOnlySet<string> scriptAssemblies)
    {
        _md = md;
        _scriptAssemblies = scriptAssemblies;
    }

    public Sig GetPrimitiveType(PrimitiveTypeCode typeCode) => new Prim(typeCode);
    public Sig GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => new Named(TypeDefName(handle), Origin.Script, [], handle);
    public Sig GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => ReferenceSig(handle);
    public Sig GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
        reader.GetTypeSpecification(handle).DecodeSignature(this, context);
    public Sig GetSZArrayType(Sig elementType) => new Array(elementType);
    public Sig GetArrayType(Sig elementType, ArrayShape shape) => new Array(elementType);
    public Sig GetByReferenceType(Sig elementType) => new ByRef(elementType);
    public Sig GetPointerType(Sig elementType) => new Pointer(elementType);
    public Sig GetFunctionPointerType(MethodSignature<Sig> signature) => new FunctionPointer();
    public Sig GetPinnedType(Sig elementType) => new Pinned(elementType);
    public Sig GetGenericInstantiation(Sig genericType, ImmutableArray<Sig> typeArguments) =>
        genericType is Named n ? n with { Args = typeArguments } : new Refused("a generic instantiation of a non-type");
    public Sig GetGenericMethodParameter(object? genericContext, int index) => new GenericParam(index);
    public Sig GetGenericTypeParameter(object? genericContext, int index) => new GenericParam(index);
    public Sig GetModifiedType(Sig modifier, Sig unmodifiedType, bool isRequired) => new Modified(modifier, unmodifiedType);

    internal Sig ReferenceSig(TypeReferenceHandle handle)
    {
        TypeReference r = _md.GetTypeReference(handle);
        EntityHandle scope = r.ResolutionScope;
        while (scope.Kind == HandleKind.TypeReference) scope = _md.GetTypeReference((TypeReferenceHandle)scope).ResolutionScope;
        Origin origin = Origin.Other;
        if (scope.Kind == HandleKind.AssemblyReference)
        {
            string asm = _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name);
            origin = _scriptAssemblies.Contains(asm) ? Origin.Script
                : asm is "nicscript" or "NicScript.Driver" ? Origin.NicScript
                : asm == "Google.Protobuf" ? Origin.Protobuf
                : CSharpScriptCompiler.FrameworkAssemblies.Contains(asm) ? Origin.Framework : Origin.Other;
        }
        else if (scope.Kind == HandleKind.ModuleDefinition || scope.IsNil) return new Refused("a type reference into the script's own module");
        return new Named(TypeRefName(handle), origin, [], null);
    }

    internal string TypeRefName(TypeReferenceHandle handle)
    {
        TypeReference r = _md.GetTypeReference(handle);
        string name = _md.GetString(r.Name);
        if (r.ResolutionScope.Kind == HandleKind.TypeReference) return TypeRefName((TypeReferenceHandle)r.ResolutionScope) + "+" + name;
        string ns = _md.GetString(r.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    internal string TypeDefName(TypeDefinitionHandle handle)
    {
        TypeDefinition t = _md.GetTypeDefinition(handle);
        string name = _md.GetString(t.Name);
        if (!t.GetDeclaringType().IsNil) return TypeDefName(t.GetDeclaringType()) + "+" + name;
        string ns = _md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
