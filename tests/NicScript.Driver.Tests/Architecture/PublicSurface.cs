using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;

namespace NicScript.Driver.Tests.Architecture;

/// <summary>Which public driver types something outside the driver needs (issue 19: the others are <c>internal</c>,
/// STYLE §1.1), judged on the compiled assemblies as <see cref="AssemblyDependencies"/> judges the layers.</summary>
/// <remarks>
/// Design: a public type is needed when
/// <list type="bullet">
/// <item>the host names it: a TypeRef into the driver in the host's metadata (any signature or method body);</item>
/// <item>or the host uses its constants: a <c>const</c> or an enum member is copied into the user and leaves no
/// reference, so for a type that declares constants its simple name followed by a dot in the host's sources counts;</item>
/// <item>or it is script surface: it carries <see cref="ScriptApiAttribute"/> members (Jint and the C# sandbox reach
/// whatever the host hands them, through those members);</item>
/// <item>or C# needs it because a needed type shows it: its base type, an interface, the type it is nested in, or a
/// type in a public or protected signature (field, method, property and event accessors, generic constraints) —
/// closed until nothing changes.</item>
/// </list>
/// Nested public types count on their own (<c>Outer+Inner</c>).
/// </remarks>
public static class PublicSurface
{
    private const string ScriptApi = DriverRules.Root + ".ScriptApiAttribute";

    /// <summary>The full names of the types of the assembly named <paramref name="target"/> that the assembly at
    /// <paramref name="userPath"/> references in its metadata.</summary>
    public static IReadOnlySet<string> NamedBy(string userPath, string target)
    {
        using var stream = File.OpenRead(userPath);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (TypeReferenceHandle h in md.TypeReferences)
            if (RefName(md, h, out string? assembly) is var name && assembly == target) named.Add(name);
        return named;
    }

    /// <summary>Every public type of the assembly at <paramref name="driverPath"/> under <paramref name="rootNamespace"/>
    /// that is needed by none of the rules, sorted: those that should be internal.</summary>
    /// <param name="named">Full names the host's metadata references (<see cref="NamedBy"/>).</param>
    /// <param name="sources">The host's source text, searched only for the types that declare constants.</param>
    public static IReadOnlyList<string> Unneeded(string driverPath, string rootNamespace, IReadOnlySet<string> named, string sources)
    {
        using var stream = File.OpenRead(driverPath);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        var types = new Types(md);
        Dictionary<string, TypeDefinitionHandle> byName = md.TypeDefinitions.ToDictionary(types.Name);
        HashSet<string> publicTypes = byName.Where(kv => kv.Key.StartsWith(rootNamespace + ".", StringComparison.Ordinal) && IsPublic(md, md.GetTypeDefinition(kv.Value)))
            .Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);

        var needed = new HashSet<string>(publicTypes.Where(named.Contains), StringComparer.Ordinal);
        foreach (string name in publicTypes)
        {
            TypeDefinition t = md.GetTypeDefinition(byName[name]);
            if (HasScriptApi(md, types, t)) needed.Add(name);
            else if (DeclaresConstants(md, t) && Regex.IsMatch(sources, @"\b" + Regex.Escape(Simple(name)) + @"\s*\.")) needed.Add(name);
        }
        var todo = new Queue<string>(needed);
        while (todo.TryDequeue(out string? name))
            foreach (string shown in Exposed(md, types, byName[name]))
                if (publicTypes.Contains(shown) && needed.Add(shown)) todo.Enqueue(shown);
        return publicTypes.Where(n => !needed.Contains(n)).Order(StringComparer.Ordinal).ToList();
    }

    private static string Simple(string name) => name[(name.LastIndexOfAny(['.', '+']) + 1)..].Split('`')[0];

    private static bool IsPublic(MetadataReader md, TypeDefinition t) => (t.Attributes & TypeAttributes.VisibilityMask) switch
    {
        TypeAttributes.Public => true,
        TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem => IsPublic(md, md.GetTypeDefinition(t.GetDeclaringType())),
        _ => false,
    };

    private static bool Visible(int access) => access is 6 or 4 or 5; // public, family, family-or-assembly

    private static bool DeclaresConstants(MetadataReader md, TypeDefinition t) =>
        t.GetFields().Select(md.GetFieldDefinition).Any(f => (f.Attributes & FieldAttributes.Literal) != 0 && Visible((int)(f.Attributes & FieldAttributes.FieldAccessMask)));

    private static bool HasScriptApi(MetadataReader md, Types types, TypeDefinition t) =>
        t.GetMethods().Select(m => md.GetMethodDefinition(m).GetCustomAttributes())
            .Concat(t.GetProperties().Select(p => md.GetPropertyDefinition(p).GetCustomAttributes()))
            .Concat(t.GetFields().Select(f => md.GetFieldDefinition(f).GetCustomAttributes()))
            .SelectMany(a => a).Any(a => types.AttributeName(a) == ScriptApi);

    /// <summary>The types a type shows its users: base, interfaces, the type it is nested in, its visible members' signatures.</summary>
    private static List<string> Exposed(MetadataReader md, Types types, TypeDefinitionHandle h)
    {
        TypeDefinition t = md.GetTypeDefinition(h);
        var shown = new List<string>();
        if (t.GetDeclaringType() is { IsNil: false } outer) shown.Add(types.Name(outer));
        if (!t.BaseType.IsNil) shown.AddRange(types.Of(t.BaseType));
        foreach (InterfaceImplementationHandle i in t.GetInterfaceImplementations()) shown.AddRange(types.Of(md.GetInterfaceImplementation(i).Interface));
        foreach (GenericParameterHandle g in t.GetGenericParameters())
            foreach (GenericParameterConstraintHandle c in md.GetGenericParameter(g).GetConstraints()) shown.AddRange(types.Of(md.GetGenericParameterConstraint(c).Type));
        foreach (FieldDefinitionHandle fh in t.GetFields())
        {
            FieldDefinition f = md.GetFieldDefinition(fh);
            if (Visible((int)(f.Attributes & FieldAttributes.FieldAccessMask))) shown.AddRange(f.DecodeSignature(types, null));
        }
        foreach (MethodDefinitionHandle mh in t.GetMethods()) // properties and events show through their accessors
        {
            MethodDefinition m = md.GetMethodDefinition(mh);
            if (!Visible((int)(m.Attributes & MethodAttributes.MemberAccessMask))) continue;
            MethodSignature<ImmutableArray<string>> sig = m.DecodeSignature(types, null);
            shown.AddRange(sig.ReturnType);
            foreach (ImmutableArray<string> p in sig.ParameterTypes) shown.AddRange(p);
            foreach (GenericParameterHandle g in m.GetGenericParameters())
                foreach (GenericParameterConstraintHandle c in md.GetGenericParameter(g).GetConstraints()) shown.AddRange(types.Of(md.GetGenericParameterConstraint(c).Type));
        }
        return shown;
    }

    private static string RefName(MetadataReader md, TypeReferenceHandle h, out string? assembly)
    {
        TypeReference t = md.GetTypeReference(h);
        string name = md.GetString(t.Name);
        if (t.ResolutionScope.Kind == HandleKind.TypeReference) return RefName(md, (TypeReferenceHandle)t.ResolutionScope, out assembly) + "+" + name;
        assembly = t.ResolutionScope.Kind == HandleKind.AssemblyReference ? md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)t.ResolutionScope).Name) : null;
        string ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Full names of an assembly's own types, and the signature decoder that lists the own types a signature contains.</summary>
    private sealed class Types(MetadataReader md) : ISignatureTypeProvider<ImmutableArray<string>, object?>
    {
        public string Name(TypeDefinitionHandle h)
        {
            TypeDefinition t = md.GetTypeDefinition(h);
            string name = md.GetString(t.Name);
            if (t.GetDeclaringType() is { IsNil: false } outer) return Name(outer) + "+" + name;
            string ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public ImmutableArray<string> Of(EntityHandle h) => h.Kind switch
        {
            HandleKind.TypeDefinition => [Name((TypeDefinitionHandle)h)],
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(this, null),
            _ => [],
        };

        public string AttributeName(CustomAttributeHandle a)
        {
            EntityHandle ctor = md.GetCustomAttribute(a).Constructor;
            EntityHandle type = ctor.Kind == HandleKind.MethodDefinition
                ? md.GetMethodDefinition((MethodDefinitionHandle)ctor).GetDeclaringType()
                : md.GetMemberReference((MemberReferenceHandle)ctor).Parent;
            return type.Kind switch
            {
                HandleKind.TypeDefinition => Name((TypeDefinitionHandle)type),
                HandleKind.TypeReference => RefName(md, (TypeReferenceHandle)type, out _),
                _ => "",
            };
        }

        public ImmutableArray<string> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => [Name(handle)];
        public ImmutableArray<string> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => [];
        public ImmutableArray<string> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
        public ImmutableArray<string> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];
        public ImmutableArray<string> GetSZArrayType(ImmutableArray<string> elementType) => elementType;
        public ImmutableArray<string> GetArrayType(ImmutableArray<string> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<string> GetByReferenceType(ImmutableArray<string> elementType) => elementType;
        public ImmutableArray<string> GetPointerType(ImmutableArray<string> elementType) => elementType;
        public ImmutableArray<string> GetPinnedType(ImmutableArray<string> elementType) => elementType;
        public ImmutableArray<string> GetModifiedType(ImmutableArray<string> modifier, ImmutableArray<string> unmodifiedType, bool isRequired) => unmodifiedType;
        public ImmutableArray<string> GetGenericMethodParameter(object? genericContext, int index) => [];
        public ImmutableArray<string> GetGenericTypeParameter(object? genericContext, int index) => [];
        public ImmutableArray<string> GetFunctionPointerType(MethodSignature<ImmutableArray<string>> signature) =>
            signature.ParameterTypes.Aggregate(signature.ReturnType, (all, p) => all.AddRange(p));
        public ImmutableArray<string> GetGenericInstantiation(ImmutableArray<string> genericType, ImmutableArray<ImmutableArray<string>> typeArguments) =>
            typeArguments.Aggregate(genericType, (all, a) => all.AddRange(a));
    }
}
