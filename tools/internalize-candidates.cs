// Lists the public driver types nothing outside the driver names: candidates for `internal` (issue 19, STYLE §1.1).
// Run through tools/internalize-candidates.sh (it builds first); prints one type a line, then the count.
//
// Design: judged on the compiled assemblies, not on text. A driver type stays public when
//   - an assembly outside the driver (nicscript.dll, the host tests) names it: a TypeRef into NicScript.Driver, from any
//     signature or method body;
//   - their sources name it (a constant or an enum member is compiled into the user: no TypeRef is left), or a C#
//     script does (scripts/*.csx are compiled against the driver and need public types): its simple name, as a word;
//   - a script can reach it: it carries [ScriptApi] members (Jint reflects over whatever the host hands it);
//   - or C#'s accessibility rules need it: it is the base type, an interface, or in a public/protected signature (field,
//     method, property, event, generic constraint) of a type that stays public — closed until nothing changes.
// Everything else that is public is printed. Nested public types count as their own lines (Outer+Inner).
using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: internalize-candidates <NicScript.Driver.dll> <user.dll | user source dir>...");
    return 2;
}

using var driverPe = new PEReader(File.OpenRead(args[0]));
MetadataReader driver = driverPe.GetMetadataReader();
string driverName = driver.GetString(driver.GetAssemblyDefinition().Name);

string DefName(TypeDefinitionHandle h)
{
    TypeDefinition t = driver.GetTypeDefinition(h);
    string name = driver.GetString(t.Name);
    if (t.GetDeclaringType() is { IsNil: false } outer) return DefName(outer) + "+" + name;
    string ns = driver.GetString(t.Namespace);
    return ns.Length == 0 ? name : ns + "." + name;
}

bool IsPublic(TypeDefinition t) => (t.Attributes & TypeAttributes.VisibilityMask) switch
{
    TypeAttributes.Public => true,
    TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem =>
        IsPublic(driver.GetTypeDefinition(t.GetDeclaringType())),
    _ => false,
};

var byName = driver.TypeDefinitions.ToDictionary(DefName);
var publicTypes = byName.Where(kv => IsPublic(driver.GetTypeDefinition(kv.Value)) && kv.Key.StartsWith("NicScript.Driver.", StringComparison.Ordinal))
    .Select(kv => kv.Key).ToHashSet();

// 1. what the users' assemblies name
string RefName(MetadataReader md, TypeReferenceHandle h, out bool intoDriver)
{
    TypeReference t = md.GetTypeReference(h);
    string name = md.GetString(t.Name);
    if (t.ResolutionScope.Kind == HandleKind.TypeReference) return RefName(md, (TypeReferenceHandle)t.ResolutionScope, out intoDriver) + "+" + name;
    intoDriver = t.ResolutionScope.Kind == HandleKind.AssemblyReference
        && md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)t.ResolutionScope).Name) == driverName;
    string ns = md.GetString(t.Namespace);
    return ns.Length == 0 ? name : ns + "." + name;
}
var keep = new HashSet<string>();
foreach (string dll in args.Skip(1).Where(File.Exists))
{
    using var pe = new PEReader(File.OpenRead(dll));
    MetadataReader user = pe.GetMetadataReader();
    foreach (TypeReferenceHandle h in user.TypeReferences)
        if (RefName(user, h, out bool intoDriver) is var n && intoDriver) keep.Add(n);
}
int namedByMetadata = keep.Count(publicTypes.Contains);

// 2. what scripts reach
foreach (var (name, h) in byName)
{
    TypeDefinition t = driver.GetTypeDefinition(h);
    bool scriptApi = t.GetMethods().Select(m => driver.GetMethodDefinition(m).GetCustomAttributes())
        .Concat(t.GetProperties().Select(p => driver.GetPropertyDefinition(p).GetCustomAttributes()))
        .Concat(t.GetFields().Select(f => driver.GetFieldDefinition(f).GetCustomAttributes()))
        .SelectMany(a => a).Any(a => AttributeName(a) == "NicScript.Driver.ScriptApiAttribute");
    if (scriptApi) keep.Add(name);
}
string sources = string.Join("\n", args.Skip(1).Where(Directory.Exists)
    .SelectMany(d => Directory.EnumerateFiles(d, "*.cs*", SearchOption.AllDirectories))
    .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csx", StringComparison.Ordinal)) && !f.Contains("/obj/") && !f.Contains("/bin/"))
    .Select(File.ReadAllText));
int namedBySource = 0;
foreach (string name in publicTypes)
    if (!keep.Contains(name) && Regex.IsMatch(sources, @"\b" + Regex.Escape(name[(name.LastIndexOfAny(['.', '+']) + 1)..].Split('`')[0]) + @"\b"))
    {
        keep.Add(name);
        namedBySource++;
    }

// 3. what C#'s accessibility rules need, closed
var provider = new Named();
var todo = new Queue<string>(keep.Where(byName.ContainsKey));
while (todo.TryDequeue(out string? name))
    foreach (string needed in Exposed(byName[name]))
        if (publicTypes.Contains(needed) && keep.Add(needed)) todo.Enqueue(needed);

var candidates = publicTypes.Where(n => !keep.Contains(n)).Order(StringComparer.Ordinal).ToList();
foreach (string c in candidates) Console.WriteLine(c);
Console.WriteLine($"{candidates.Count} of {publicTypes.Count} public driver types could be internal " +
    $"({namedByMetadata} named in users' metadata, {namedBySource} more only in their sources)");
return 0;

string AttributeName(CustomAttributeHandle a)
{
    EntityHandle ctor = driver.GetCustomAttribute(a).Constructor;
    EntityHandle type = ctor.Kind == HandleKind.MethodDefinition
        ? driver.GetMethodDefinition((MethodDefinitionHandle)ctor).GetDeclaringType()
        : driver.GetMemberReference((MemberReferenceHandle)ctor).Parent;
    return type.Kind == HandleKind.TypeDefinition ? DefName((TypeDefinitionHandle)type) : RefName(driver, (TypeReferenceHandle)type, out _);
}

// The driver types a type shows to its users: base, interfaces, nesting parent, and its visible members' signatures.
IEnumerable<string> Exposed(TypeDefinitionHandle h)
{
    TypeDefinition t = driver.GetTypeDefinition(h);
    var names = new List<string>();
    if (t.GetDeclaringType() is { IsNil: false } outer) names.Add(DefName(outer));
    if (!t.BaseType.IsNil) names.AddRange(provider.Of(driver, t.BaseType));
    foreach (var i in t.GetInterfaceImplementations()) names.AddRange(provider.Of(driver, driver.GetInterfaceImplementation(i).Interface));
    foreach (var g in t.GetGenericParameters())
        foreach (var c in driver.GetGenericParameter(g).GetConstraints()) names.AddRange(provider.Of(driver, driver.GetGenericParameterConstraint(c).Type));
    static bool Visible(int access) => access is 6 or 4 or 5; // public, family, famorassem
    foreach (var fh in t.GetFields())
    {
        FieldDefinition f = driver.GetFieldDefinition(fh);
        if (Visible((int)(f.Attributes & FieldAttributes.FieldAccessMask))) names.AddRange(f.DecodeSignature(provider, null));
    }
    foreach (var mh in t.GetMethods())
    {
        MethodDefinition m = driver.GetMethodDefinition(mh);
        if (!Visible((int)(m.Attributes & MethodAttributes.MemberAccessMask))) continue;
        var sig = m.DecodeSignature(provider, null);
        names.AddRange(sig.ReturnType);
        foreach (var p in sig.ParameterTypes) names.AddRange(p);
        foreach (var g in m.GetGenericParameters())
            foreach (var c in driver.GetGenericParameter(g).GetConstraints()) names.AddRange(provider.Of(driver, driver.GetGenericParameterConstraint(c).Type));
    }
    // properties and events are reached through their accessor methods above
    return names;
}

/// <summary>Decodes signatures into the full names of the driver types they contain.</summary>
sealed class Named : ISignatureTypeProvider<ImmutableArray<string>, object?>
{
    public ImmutableArray<string> Of(MetadataReader md, EntityHandle h) => h.Kind switch
    {
        HandleKind.TypeDefinition => GetTypeFromDefinition(md, (TypeDefinitionHandle)h, 0),
        HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(this, null),
        _ => [],
    };

    public ImmutableArray<string> GetTypeFromDefinition(MetadataReader md, TypeDefinitionHandle handle, byte rawTypeKind)
    {
        TypeDefinition t = md.GetTypeDefinition(handle);
        string name = md.GetString(t.Name);
        if (t.GetDeclaringType() is { IsNil: false } outer) return [GetTypeFromDefinition(md, outer, 0)[0] + "+" + name];
        string ns = md.GetString(t.Namespace);
        return [ns.Length == 0 ? name : ns + "." + name];
    }

    public ImmutableArray<string> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];
    public ImmutableArray<string> GetTypeFromReference(MetadataReader md, TypeReferenceHandle handle, byte rawTypeKind) => [];
    public ImmutableArray<string> GetTypeFromSpecification(MetadataReader md, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
        md.GetTypeSpecification(handle).DecodeSignature(this, context);
    public ImmutableArray<string> GetSZArrayType(ImmutableArray<string> elementType) => elementType;
    public ImmutableArray<string> GetArrayType(ImmutableArray<string> elementType, ArrayShape shape) => elementType;
    public ImmutableArray<string> GetByReferenceType(ImmutableArray<string> elementType) => elementType;
    public ImmutableArray<string> GetPointerType(ImmutableArray<string> elementType) => elementType;
    public ImmutableArray<string> GetPinnedType(ImmutableArray<string> elementType) => elementType;
    public ImmutableArray<string> GetModifiedType(ImmutableArray<string> modifier, ImmutableArray<string> unmodifiedType, bool isRequired) => unmodifiedType;
    public ImmutableArray<string> GetGenericMethodParameter(object? context, int index) => [];
    public ImmutableArray<string> GetGenericTypeParameter(object? context, int index) => [];
    public ImmutableArray<string> GetFunctionPointerType(MethodSignature<ImmutableArray<string>> signature) =>
        signature.ParameterTypes.Aggregate(signature.ReturnType, (all, p) => all.AddRange(p));
    public ImmutableArray<string> GetGenericInstantiation(ImmutableArray<string> genericType, ImmutableArray<ImmutableArray<string>> typeArguments) =>
        typeArguments.Aggregate(genericType, (all, a) => all.AddRange(a));
}
