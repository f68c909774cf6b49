using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace NicScript.Driver.Tests.Architecture;

/// <summary>Every name the types of a compiled assembly use, read from its metadata: what the architecture rules judge.</summary>
/// <remarks>
/// Design: read the DLL, not the sources and not reflection, so that what counts is what runs. For each type (its
/// nested and compiler-made types — lambdas' closures, iterators, async state machines — folded into the top-level type
/// that declares them) it reports the types named by its base type, interfaces, generic constraints, fields, method
/// and property signatures, events, custom attributes (so <c>dynamic</c> in a signature shows as <c>DynamicAttribute</c>),
/// locals, exception handlers and every token of every method body (calls, field accesses, <c>newobj</c>, casts,
/// <c>ldtoken</c>); a generic instantiation is reported whole (<c>IDictionary&lt;System.String,System.Object&gt;</c>) and
/// by its parts. It also reports the names the type declares (members, parameters) and the strings its IL loads.
/// Only types of namespaces starting with <paramref name="rootNamespace"/> are sources.
/// </remarks>
public static class AssemblyDependencies
{
    private static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => (ushort)o.Value, o => o.OperandType);

    /// <summary>The dependencies of every type of the assembly at <paramref name="path"/> under <paramref name="rootNamespace"/>, without duplicates.</summary>
    public static IReadOnlyList<Dependency> Read(string path, string rootNamespace)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        var names = new Names(md);
        var found = new HashSet<Dependency>();
        foreach (TypeDefinitionHandle h in md.TypeDefinitions)
        {
            string from = names.Outermost(h);
            if (!from.StartsWith(rootNamespace + ".", StringComparison.Ordinal)) continue;
            new TypeScan(md, pe, names, from, found).Scan(h);
        }
        return found.ToList();
    }

    /// <summary>Full names of definitions and references, and the signature decoder that spells types out.</summary>
    private sealed class Names(MetadataReader md) : ISignatureTypeProvider<Spelled, object?>
    {
        public string Outermost(TypeDefinitionHandle h)
        {
            TypeDefinition t = md.GetTypeDefinition(h);
            while (t.GetDeclaringType() is { IsNil: false } outer) t = md.GetTypeDefinition(outer);
            string ns = md.GetString(t.Namespace), name = md.GetString(t.Name);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public string Of(TypeDefinitionHandle h)
        {
            TypeDefinition t = md.GetTypeDefinition(h);
            string name = md.GetString(t.Name);
            if (t.GetDeclaringType() is { IsNil: false } outer) return Of(outer) + "+" + name;
            string ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public string Of(TypeReferenceHandle h)
        {
            TypeReference t = md.GetTypeReference(h);
            string name = md.GetString(t.Name);
            if (t.ResolutionScope.Kind == HandleKind.TypeReference) return Of((TypeReferenceHandle)t.ResolutionScope) + "+" + name;
            string ns = md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public Spelled GetPrimitiveType(PrimitiveTypeCode typeCode) => new("System." + typeCode, []);
        public Spelled GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Spelled.Named(Of(handle));
        public Spelled GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => Spelled.Named(Of(handle));
        public Spelled GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
        public Spelled GetSZArrayType(Spelled elementType) => elementType with { Display = elementType.Display + "[]" };
        public Spelled GetArrayType(Spelled elementType, ArrayShape shape) => elementType with { Display = elementType.Display + "[" + new string(',', shape.Rank - 1) + "]" };
        public Spelled GetByReferenceType(Spelled elementType) => elementType with { Display = elementType.Display + "&" };
        public Spelled GetPointerType(Spelled elementType) => elementType with { Display = elementType.Display + "*" };
        public Spelled GetPinnedType(Spelled elementType) => elementType;
        public Spelled GetModifiedType(Spelled modifier, Spelled unmodifiedType, bool isRequired) => unmodifiedType with { All = unmodifiedType.All.AddRange(modifier.All) };
        public Spelled GetGenericMethodParameter(object? genericContext, int index) => new("!!" + index, []);
        public Spelled GetGenericTypeParameter(object? genericContext, int index) => new("!" + index, []);

        public Spelled GetFunctionPointerType(MethodSignature<Spelled> signature) =>
            new("method*", signature.ParameterTypes.Aggregate(signature.ReturnType.All, (all, p) => all.AddRange(p.All)));

        public Spelled GetGenericInstantiation(Spelled genericType, ImmutableArray<Spelled> typeArguments)
        {
            int tick = genericType.Display.IndexOf('`');
            string display = (tick < 0 ? genericType.Display : genericType.Display[..tick]) + "<" + string.Join(",", typeArguments.Select(a => a.Display)) + ">";
            return new(display, typeArguments.Aggregate(genericType.All.Add(display), (all, a) => all.AddRange(a.All)));
        }
    }

    /// <summary>A type as written in a signature (<see cref="Display"/>) and every named type inside it (<see cref="All"/>).</summary>
    private sealed record Spelled(string Display, ImmutableArray<string> All)
    {
        public static Spelled Named(string name) => new(name, [name]);
    }

    /// <summary>One top-level type's scan: adds what its definitions (the type and everything nested in it) name.</summary>
    private sealed class TypeScan(MetadataReader md, PEReader pe, Names names, string from, HashSet<Dependency> found)
    {
        public void Scan(TypeDefinitionHandle h)
        {
            TypeDefinition t = md.GetTypeDefinition(h);
            string owner = md.GetString(t.Name);
            Member(owner);
            if (!t.BaseType.IsNil) Types(t.BaseType);
            foreach (InterfaceImplementationHandle i in t.GetInterfaceImplementations())
            {
                InterfaceImplementation impl = md.GetInterfaceImplementation(i);
                Types(impl.Interface);
                Attributes(impl.GetCustomAttributes());
            }
            Attributes(t.GetCustomAttributes());
            GenericParameters(t.GetGenericParameters());
            foreach (FieldDefinitionHandle fh in t.GetFields())
            {
                FieldDefinition f = md.GetFieldDefinition(fh);
                Member(owner + "." + md.GetString(f.Name));
                Add(f.DecodeSignature(names, null));
                Attributes(f.GetCustomAttributes());
            }
            foreach (MethodDefinitionHandle mh in t.GetMethods()) Method(owner, md.GetMethodDefinition(mh));
            foreach (PropertyDefinitionHandle ph in t.GetProperties())
            {
                PropertyDefinition p = md.GetPropertyDefinition(ph);
                Member(owner + "." + md.GetString(p.Name));
                MethodSignature<Spelled> sig = p.DecodeSignature(names, null);
                Add(sig.ReturnType);
                foreach (Spelled s in sig.ParameterTypes) Add(s);
                Attributes(p.GetCustomAttributes());
            }
            foreach (EventDefinitionHandle eh in t.GetEvents())
            {
                EventDefinition e = md.GetEventDefinition(eh);
                Member(owner + "." + md.GetString(e.Name));
                Types(e.Type);
                Attributes(e.GetCustomAttributes());
            }
            foreach (MethodImplementationHandle ih in t.GetMethodImplementations()) Types(md.GetMethodImplementation(ih).MethodDeclaration);
            foreach (TypeDefinitionHandle nested in t.GetNestedTypes()) Scan(nested);
        }

        private void Method(string owner, MethodDefinition m)
        {
            string name = md.GetString(m.Name);
            Member(owner + "." + name);
            MethodSignature<Spelled> sig = m.DecodeSignature(names, null);
            Add(sig.ReturnType);
            foreach (Spelled s in sig.ParameterTypes) Add(s);
            foreach (ParameterHandle ph in m.GetParameters())
            {
                Parameter p = md.GetParameter(ph);
                if (p.SequenceNumber > 0) Member(owner + "." + name + "(" + md.GetString(p.Name) + ")");
                Attributes(p.GetCustomAttributes());
            }
            Attributes(m.GetCustomAttributes());
            GenericParameters(m.GetGenericParameters());
            if (m.RelativeVirtualAddress == 0) return;
            MethodBodyBlock body = pe.GetMethodBody(m.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
                foreach (Spelled local in md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(names, null)) Add(local);
            foreach (ExceptionRegion region in body.ExceptionRegions)
                if (!region.CatchType.IsNil) Types(region.CatchType);
            Il(body.GetILReader());
        }

        private void Il(BlobReader il)
        {
            while (il.RemainingBytes > 0)
            {
                ushort code = il.ReadByte();
                if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
                if (!Operands.TryGetValue(code, out OperandType operand)) throw new BadImageFormatException($"unknown IL opcode 0x{code:X} in {from}");
                switch (operand)
                {
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.Offset += 1; break;
                    case OperandType.InlineVar: il.Offset += 2; break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.Offset += 8; break;
                    case OperandType.InlineSwitch:
                        int targets = il.ReadInt32(); // read before the offset: `il.Offset += 4 * il.ReadInt32()` would lose the count's 4 bytes
                        il.Offset += 4 * targets;
                        break;
                    case OperandType.InlineString:
                        Literal(md.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32() & 0xFFFFFF)));
                        break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType or OperandType.InlineSig:
                        Types(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    default: il.Offset += 4; break; // InlineBrTarget, InlineI, ShortInlineR
                }
            }
        }

        private void GenericParameters(GenericParameterHandleCollection parameters)
        {
            foreach (GenericParameterHandle gh in parameters)
            {
                GenericParameter g = md.GetGenericParameter(gh);
                Attributes(g.GetCustomAttributes());
                foreach (GenericParameterConstraintHandle ch in g.GetConstraints()) Types(md.GetGenericParameterConstraint(ch).Type);
            }
        }

        private void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (CustomAttributeHandle ah in attributes) Types(md.GetCustomAttribute(ah).Constructor);
        }

        /// <summary>The types a metadata token names: a type, a member's declaring type and signature, a method instantiation.</summary>
        private void Types(EntityHandle h)
        {
            switch (h.Kind)
            {
                case HandleKind.TypeDefinition: Add(Spelled.Named(names.Of((TypeDefinitionHandle)h))); break;
                case HandleKind.TypeReference: Add(Spelled.Named(names.Of((TypeReferenceHandle)h))); break;
                case HandleKind.TypeSpecification: Add(md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(names, null)); break;
                case HandleKind.MethodDefinition: Add(Spelled.Named(names.Of(md.GetMethodDefinition((MethodDefinitionHandle)h).GetDeclaringType()))); break;
                case HandleKind.FieldDefinition: Add(Spelled.Named(names.Of(md.GetFieldDefinition((FieldDefinitionHandle)h).GetDeclaringType()))); break;
                case HandleKind.MemberReference:
                    MemberReference r = md.GetMemberReference((MemberReferenceHandle)h);
                    if (r.Parent.Kind != HandleKind.ModuleReference) Types(r.Parent);
                    if (r.GetKind() == MemberReferenceKind.Field) Add(r.DecodeFieldSignature(names, null));
                    else
                    {
                        MethodSignature<Spelled> sig = r.DecodeMethodSignature(names, null);
                        Add(sig.ReturnType);
                        foreach (Spelled s in sig.ParameterTypes) Add(s);
                    }
                    break;
                case HandleKind.MethodSpecification:
                    MethodSpecification spec = md.GetMethodSpecification((MethodSpecificationHandle)h);
                    Types(spec.Method);
                    foreach (Spelled s in spec.DecodeSignature(names, null)) Add(s);
                    break;
                case HandleKind.StandaloneSignature:
                    MethodSignature<Spelled> standalone = md.GetStandaloneSignature((StandaloneSignatureHandle)h).DecodeMethodSignature(names, null);
                    Add(standalone.ReturnType);
                    foreach (Spelled s in standalone.ParameterTypes) Add(s);
                    break;
            }
        }

        private void Add(Spelled s)
        {
            foreach (string name in s.All) found.Add(new Dependency(from, name));
        }

        private void Member(string name) => found.Add(new Dependency(from, name, DependencyKind.Member));

        private void Literal(string text) => found.Add(new Dependency(from, text, DependencyKind.Literal));
    }
}
