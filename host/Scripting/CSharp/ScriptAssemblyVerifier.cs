using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using static NicScript.Host.Scripting.CSharp.IlCode;
using static NicScript.Host.Scripting.CSharp.ScriptSignatures;
using static NicScript.Host.Scripting.CSharp.ScriptSourcePositions;
using Array = NicScript.Host.Scripting.CSharp.ScriptSignatures.Array;
using Pointer = NicScript.Host.Scripting.CSharp.ScriptSignatures.Pointer;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Checks a compiled script assembly, before it is loaded, against <see cref="ScriptAllowList"/>: the sandbox's guarantee.</summary>
/// <remarks>
/// Design: deny by default, on what will run rather than on what the source says. Every metadata row that names
/// something outside the assembly (TypeRef, MemberRef, TypeSpec, MethodSpec, StandAloneSig, CustomAttribute,
/// AssemblyRef) and every signature of the script's own definitions (base types, interfaces, fields, methods, locals,
/// generic constraints, properties) is decoded and each type in it checked; every method body is decoded opcode by
/// opcode and each token checked where it is used, so a refusal carries the line of the use (sequence points of the
/// embedded portable PDB; the file alone where there are none). Pointers and function pointers are refused in every
/// signature; <c>calli</c>, <c>jmp</c>, <c>cpblk</c>, <c>initblk</c>, <c>mkrefany</c>, <c>refanyval</c>,
/// <c>refanytype</c>, <c>arglist</c> and the <c>unaligned.</c> prefix are refused (and <c>no.</c>, which no decoder here knows: an unknown opcode refuses the assembly). The few exact shapes
/// Roslyn emits for safe code that touch pointers or handles are recognised and nothing else: a constant
/// <c>stackalloc</c> of at most 1024 primitive elements into a <c>Span&lt;T&gt;</c>, outside any loop, in a method that
/// zeroes its locals; constant data (<c>"…"u8</c>, <c>ReadOnlySpan&lt;byte&gt; x = new byte[] {…}</c>) wrapped from the
/// script's own &lt;PrivateImplementationDetails&gt; field with a length inside it; <c>ldtoken</c> of such a field for
/// <c>RuntimeHelpers.InitializeArray</c> / <c>CreateSpan</c> (both check sizes themselves), and <c>ldtoken</c> of the
/// script's own type for <c>Type.GetTypeFromHandle</c> (a record's <c>EqualityContract</c>; the Type can only be compared).
/// Limit: the evaluation stack is not typed, so <c>ldind</c>/<c>stind</c> are allowed; with no pointer anywhere in a
/// signature and no pointer-producing API, the compiler has nothing to emit them on but managed references.
/// The layers below the checks: <see cref="IlCode"/> decodes bodies and answers control-flow questions,
/// <see cref="ScriptSignatureProvider"/> decodes signatures into <see cref="ScriptSignatures"/>, and
/// <see cref="ScriptSourcePositions"/> turns a <see cref="ScriptSourcePositions.Where"/> into file:line:col; this class only decides.
/// </remarks>
internal sealed class ScriptAssemblyVerifier
{
    /// <summary>Assemblies a script may reference besides earlier REPL submissions; the framework's by name.</summary>
    private static readonly FrozenSet<string> HostAssemblies = new[] { "nicscript", "NicScript.Driver", "Google.Protobuf" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Types the compiler embeds into an assembly when the framework lacks a public one (attributes, metadata only).</summary>
    private static readonly FrozenSet<string> EmbeddedTypes = new[]
    {
        "Microsoft.CodeAnalysis.EmbeddedAttribute", "System.Runtime.CompilerServices.NullableAttribute",
        "System.Runtime.CompilerServices.NullableContextAttribute", "System.Runtime.CompilerServices.NullablePublicOnlyAttribute",
        "System.Runtime.CompilerServices.IsReadOnlyAttribute", "System.Runtime.CompilerServices.IsByRefLikeAttribute",
        "System.Runtime.CompilerServices.IsUnmanagedAttribute", "System.Runtime.CompilerServices.RefSafetyRulesAttribute",
        "System.Runtime.CompilerServices.ScopedRefAttribute", "System.Runtime.CompilerServices.ParamCollectionAttribute",
        "System.Runtime.CompilerServices.RequiresLocationAttribute",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Members allowed only at a call site one of the recognised compiler patterns approved.</summary>
    private static readonly FrozenSet<string> PatternOnly = new[]
    {
        "System.Runtime.CompilerServices.RuntimeHelpers.InitializeArray", "System.Runtime.CompilerServices.RuntimeHelpers.CreateSpan",
        "System.Type.GetTypeFromHandle",
    }.ToFrozenSet(StringComparer.Ordinal);

    private readonly MetadataReader _md;
    private readonly string _fallbackFile;
    private readonly IReadOnlySet<string> _scriptAssemblies;
    private readonly ScriptAllowList _list = ScriptAllowList.Default;
    private readonly List<ScriptProblem> _problems = new();
    private readonly HashSet<(string, int, string)> _seen = new();
    private readonly HashSet<EntityHandle> _checkedRows = new();
    private readonly ScriptSignatureProvider _provider;
    private readonly ScriptSourcePositions _positions;
    private bool _inInlineArrayHelper; // checking the body of one of the compiler's InlineArray* helpers

    private ScriptAssemblyVerifier(MetadataReader md, MetadataReader? pdb, string fallbackFile, IReadOnlySet<string> scriptAssemblies, Func<string, string> display)
    {
        _md = md;
        _fallbackFile = fallbackFile;
        _scriptAssemblies = scriptAssemblies;
        _provider = new ScriptSignatureProvider(md, scriptAssemblies);
        _positions = new ScriptSourcePositions(md, pdb, display);
    }

    /// <summary>Every refusal in the assembly <paramref name="image"/> (its PDB embedded); empty when it may be loaded.</summary>
    /// <param name="fallbackFile">The file named when a refusal has no sequence point.</param>
    /// <param name="scriptAssemblies">Earlier REPL submissions this one may reference (they were verified themselves).</param>
    /// <param name="display">Turns a PDB document path into the path shown.</param>
    public static IReadOnlyList<ScriptProblem> Verify(ReadOnlyMemory<byte> image, string fallbackFile, IReadOnlySet<string>? scriptAssemblies = null,
        Func<string, string>? display = null)
    {
        try
        {
            using var pe = new PEReader(ImmutableArray.Create(image.Span));
            if (!pe.HasMetadata) return [new ScriptProblem(SourceSpan.None(fallbackFile), "not a script assembly")];
            MetadataReaderProvider? pdbProvider = null;
            foreach (DebugDirectoryEntry e in pe.ReadDebugDirectory())
                if (e.Type == DebugDirectoryEntryType.EmbeddedPortablePdb) pdbProvider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(e);
            using (pdbProvider)
            {
                var v = new ScriptAssemblyVerifier(pe.GetMetadataReader(), pdbProvider?.GetMetadataReader(), fallbackFile,
                    scriptAssemblies ?? FrozenSet<string>.Empty, display ?? DisplayPath.Of);
                v.Run(pe);
                return v._problems;
            }
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentException)
        {
            return [new ScriptProblem(SourceSpan.None(fallbackFile), "the compiled script is not a well-formed assembly: " + e.Message)];
        }
    }

    private void Run(PEReader pe)
    {
        CheckTables();
        foreach (TypeDefinitionHandle t in _md.TypeDefinitions) CheckTypeDefinition(t, pe);
        // Rows no body or definition reached (an attribute's constructor is reached below; anything else unused is still checked).
        foreach (CustomAttributeHandle a in _md.CustomAttributes) CheckAttribute(a);
        foreach (MemberReferenceHandle m in _md.MemberReferences) if (!_checkedRows.Contains(m)) CheckMember(m, None, approved: false);
        foreach (int row in Enumerable.Range(1, _md.GetTableRowCount(TableIndex.MethodSpec)))
            if (!_checkedRows.Contains(MetadataTokens.MethodSpecificationHandle(row))) CheckMethodToken(MetadataTokens.MethodSpecificationHandle(row), None, approved: false);
        foreach (int row in Enumerable.Range(1, _md.GetTableRowCount(TableIndex.TypeSpec)))
            if (!_checkedRows.Contains(MetadataTokens.TypeSpecificationHandle(row))) CheckTypeToken(MetadataTokens.TypeSpecificationHandle(row), None);
        foreach (TypeReferenceHandle t in _md.TypeReferences) if (!_checkedRows.Contains(t)) CheckTypeToken(t, None);
        foreach (int row in Enumerable.Range(1, _md.GetTableRowCount(TableIndex.StandAloneSig)))
        {
            StandaloneSignature sig = _md.GetStandaloneSignature(MetadataTokens.StandaloneSignatureHandle(row));
            if (sig.GetKind() == StandaloneSignatureKind.LocalVariables) Report(None, CheckTypes(sig.DecodeLocalSignature(_provider, null)));
            else Report(None, "calli signatures (function pointers) are not allowed in a V-Node script");
        }
    }

    /// <summary>Tables a compiled script never needs: P/Invoke, other modules, security, exported types, resources.</summary>
    private void CheckTables()
    {
        if (_md.GetTableRowCount(TableIndex.ImplMap) > 0) Report(None, "extern methods (P/Invoke, DllImport) are not allowed in a V-Node script");
        if (_md.GetTableRowCount(TableIndex.ModuleRef) > 0) Report(None, "references to native modules are not allowed in a V-Node script");
        if (_md.GetTableRowCount(TableIndex.DeclSecurity) > 0) Report(None, "security declarations are not allowed in a V-Node script");
        if (_md.GetTableRowCount(TableIndex.ExportedType) + _md.GetTableRowCount(TableIndex.File) + _md.GetTableRowCount(TableIndex.ManifestResource) > 0)
            Report(None, "a V-Node script cannot carry files, resources or forwarded types");
        if (_md.GetTableRowCount(TableIndex.FieldRva) > 0)
            foreach (FieldDefinitionHandle f in _md.FieldDefinitions)
                if ((_md.GetFieldDefinition(f).Attributes & FieldAttributes.HasFieldRVA) != 0 && !IsPrivateImplementationDetails(_md.GetFieldDefinition(f).GetDeclaringType()))
                    Report(None, "fields with initial data outside <PrivateImplementationDetails> are not allowed in a V-Node script");
        foreach (AssemblyReferenceHandle a in _md.AssemblyReferences)
        {
            string name = _md.GetString(_md.GetAssemblyReference(a).Name);
            if (!IsAllowedAssembly(name)) Report(None, $"a reference to assembly {name} is not allowed in a V-Node script");
        }
    }

    private bool IsAllowedAssembly(string name) =>
        HostAssemblies.Contains(name) || CSharpScriptCompiler.FrameworkAssemblies.Contains(name) || _scriptAssemblies.Contains(name);

    // Definitions ------------------------------------------------------------------------------------------------------

    private void CheckTypeDefinition(TypeDefinitionHandle handle, PEReader pe)
    {
        TypeDefinition type = _md.GetTypeDefinition(handle);
        Where at = TypeLocation(handle);
        string name = _provider.TypeDefName(handle);
        if (type.GetDeclaringType().IsNil && name != "<Module>")
        {
            string ns = _md.GetString(type.Namespace);
            if ((ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal) || ns.StartsWith("Microsoft.", StringComparison.Ordinal)) && !EmbeddedTypes.Contains(name))
                Report(at, $"the script may not declare {name}: framework namespaces are the framework's");
        }
        if (name == "<Module>" && type.GetMethods().Count > 0)
            Report(at, "module initializers are not allowed in a V-Node script");
        bool pid = IsPrivateImplementationDetails(handle) || IsPrivateImplementationDetails(type.GetDeclaringType());
        if ((type.Attributes & TypeAttributes.LayoutMask) == TypeAttributes.ExplicitLayout && !pid)
            Report(at, "explicit struct layout (overlapping fields) is not allowed in a V-Node script");
        if (!type.BaseType.IsNil) CheckTypeToken(type.BaseType, at);
        foreach (InterfaceImplementationHandle i in type.GetInterfaceImplementations()) CheckTypeToken(_md.GetInterfaceImplementation(i).Interface, at);
        foreach (GenericParameterHandle g in type.GetGenericParameters()) CheckGenericParameter(g, at);
        foreach (FieldDefinitionHandle f in type.GetFields())
        {
            FieldDefinition field = _md.GetFieldDefinition(f);
            if (field.GetOffset() >= 0 && !pid) Report(at, "explicit field offsets are not allowed in a V-Node script");
            Report(at, CheckType(field.DecodeSignature(_provider, null)));
        }
        foreach (PropertyDefinitionHandle p in type.GetProperties())
            Report(at, CheckTypes([_md.GetPropertyDefinition(p).DecodeSignature(_provider, null).ReturnType, .. _md.GetPropertyDefinition(p).DecodeSignature(_provider, null).ParameterTypes]));
        foreach (MethodImplementationHandle mi in type.GetMethodImplementations())
        {
            MethodImplementation impl = _md.GetMethodImplementation(mi);
            if (MemberName(impl.MethodDeclaration) == "System.Object.Finalize") Report(at, "finalizers are not allowed in a V-Node script");
            CheckMethodToken(impl.MethodDeclaration, at, approved: false);
        }
        bool isDelegate = type.BaseType.Kind == HandleKind.TypeReference && _provider.TypeRefName((TypeReferenceHandle)type.BaseType) == "System.MulticastDelegate";
        foreach (MethodDefinitionHandle m in type.GetMethods()) CheckMethodDefinition(m, isDelegate, pe);
    }

    private void CheckGenericParameter(GenericParameterHandle g, Where at)
    {
        foreach (GenericParameterConstraintHandle c in _md.GetGenericParameter(g).GetConstraints())
            CheckTypeToken(_md.GetGenericParameterConstraint(c).Type, at);
    }

    private void CheckMethodDefinition(MethodDefinitionHandle handle, bool inDelegate, PEReader pe)
    {
        MethodDefinition method = _md.GetMethodDefinition(handle);
        string name = _md.GetString(method.Name);
        Where at = MethodLocation(handle, 0);
        if (name == "Finalize" && (method.Attributes & MethodAttributes.Virtual) != 0 && method.DecodeSignature(_provider, null).ParameterTypes.Length == 0)
            Report(at, "finalizers are not allowed in a V-Node script: they run on the finalizer thread, outside the V-Node");
        if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0 || (method.ImplAttributes & (MethodImplAttributes.InternalCall | MethodImplAttributes.Native | MethodImplAttributes.Unmanaged)) != 0)
            Report(at, $"{name} is extern (P/Invoke) and not allowed in a V-Node script");
        bool runtimeImpl = (method.ImplAttributes & MethodImplAttributes.CodeTypeMask) == MethodImplAttributes.Runtime;
        if (runtimeImpl && !inDelegate) Report(at, $"{name}: runtime-implemented methods are allowed only in delegates");
        if (method.RelativeVirtualAddress == 0 && (method.Attributes & MethodAttributes.Abstract) == 0 && !runtimeImpl)
            Report(at, $"{name} has no body (extern) and is not allowed in a V-Node script");
        foreach (GenericParameterHandle g in method.GetGenericParameters()) CheckGenericParameter(g, at);
        MethodSignature<Sig> sig = method.DecodeSignature(_provider, null);
        if (sig.Header.CallingConvention == SignatureCallingConvention.VarArgs) Report(at, "__arglist methods are not allowed in a V-Node script");
        Report(at, CheckType(sig.ReturnType) ?? CheckTypes(sig.ParameterTypes));
        if (method.RelativeVirtualAddress == 0) return;
        _inInlineArrayHelper = IsPrivateImplementationDetails(method.GetDeclaringType()) && name.StartsWith("InlineArray", StringComparison.Ordinal);
        try { CheckBody(handle, pe.GetMethodBody(method.RelativeVirtualAddress)); }
        finally { _inInlineArrayHelper = false; }
    }

    private void CheckAttribute(CustomAttributeHandle handle)
    {
        CustomAttribute a = _md.GetCustomAttribute(handle);
        Where at = a.Parent.Kind switch
        {
            HandleKind.MethodDefinition => MethodLocation((MethodDefinitionHandle)a.Parent, 0),
            HandleKind.TypeDefinition => TypeLocation((TypeDefinitionHandle)a.Parent),
            _ => None,
        };
        if (a.Constructor.Kind == HandleKind.MemberReference) CheckMember((MemberReferenceHandle)a.Constructor, at, approved: false);
    }

    // Bodies ------------------------------------------------------------------------------------------------------------

    private void CheckBody(MethodDefinitionHandle method, MethodBodyBlock body)
    {
        if (!body.LocalSignature.IsNil)
        {
            StandaloneSignature locals = _md.GetStandaloneSignature(body.LocalSignature);
            Report(MethodLocation(method, 0), CheckTypes(locals.DecodeLocalSignature(_provider, null)));
        }
        foreach (ExceptionRegion r in body.ExceptionRegions)
            if (r.Kind == ExceptionRegionKind.Catch) CheckTypeToken(r.CatchType, MethodLocation(method, r.HandlerOffset));

        List<Instruction> code = Decode(body.GetILReader());
        for (int i = 0; i < code.Count; i++)
        {
            Instruction ins = code[i];
            Where at = MethodLocation(method, ins.Offset);
            var op = (ILOpCode)ins.OpCode;
            switch (op)
            {
                case ILOpCode.Calli: Report(at, "calli (calls through function pointers) is not allowed in a V-Node script"); break;
                case ILOpCode.Jmp: Report(at, "jmp is not allowed in a V-Node script"); break;
                case ILOpCode.Cpblk or ILOpCode.Initblk: Report(at, "cpblk / initblk (unchecked memory copies) are not allowed in a V-Node script"); break;
                case ILOpCode.Mkrefany or ILOpCode.Refanyval or ILOpCode.Refanytype or ILOpCode.Arglist:
                    Report(at, "__makeref, __refvalue, __reftype and __arglist are not allowed in a V-Node script"); break;
                case ILOpCode.Unaligned: Report(at, "the unaligned. prefix is not allowed in a V-Node script"); break;
                case ILOpCode.Localloc:
                    CheckStackAlloc(code, i, body, at);
                    if (i + 2 < code.Count && IsConstruct(code[i + 2])) i += 2; // its span: judged with it
                    break;
                case ILOpCode.Ldtoken:
                    if (CheckLdtoken(code, i, at)) i++; // the helper call: judged with it
                    break;
                case ILOpCode.Ldsflda when i + 2 < code.Count && IsConstantDataSpan(code, i):
                    i += 2; // the field, the length and the span constructor are one approved shape
                    break;
                default:
                    if (Operands[ins.OpCode] is OperandType.InlineMethod && InlineArrayHelper(MetadataTokens.EntityHandle((int)ins.Operand)) is { } helper)
                        CheckInlineArrayCall(code, i, helper, at);
                    if (Operands[ins.OpCode] is OperandType.InlineMethod) CheckMethodToken(MetadataTokens.EntityHandle((int)ins.Operand), at, approved: false);
                    else if (Operands[ins.OpCode] is OperandType.InlineField) CheckFieldToken(MetadataTokens.EntityHandle((int)ins.Operand), at);
                    else if (Operands[ins.OpCode] is OperandType.InlineType) CheckTypeToken(MetadataTokens.EntityHandle((int)ins.Operand), at);
                    else if (Operands[ins.OpCode] is OperandType.InlineSig) Report(at, "calli signatures are not allowed in a V-Node script");
                    break;
            }
        }
    }

    /// <summary>The one stackalloc shape allowed: constant bytes, <c>conv.u</c>, <c>localloc</c>, a constant count, a Span of a primitive.</summary>
    private void CheckStackAlloc(List<Instruction> code, int i, MethodBodyBlock body, Where at)
    {
        const string Shape = "stackalloc is allowed only as a constant size of at most 1024 numbers into a Span, outside loops";
        if (i < 2 || i + 2 >= code.Count || !body.LocalVariablesInitialized || code[i - 1].OpCode != (ushort)ILOpCode.Conv_u ||
            Constant(code[i - 2]) is not { } bytes || Constant(code[i + 1]) is not { } count || !IsConstruct(code[i + 2]) ||
            SpanOverPointer(MetadataTokens.EntityHandle((int)code[i + 2].Operand), "System.Span`1") is not { } element ||
            count is < 0 or > 1024 || bytes != count * element || InLoop(code, body, i))
        {
            Report(at, Shape);
            return;
        }
    }

    /// <summary><c>ldsflda</c> of the script's constant data, a constant length inside it, <c>new ReadOnlySpan&lt;T&gt;(void*, int)</c>.</summary>
    private bool IsConstantDataSpan(List<Instruction> code, int i)
    {
        var field = MetadataTokens.EntityHandle((int)code[i].Operand);
        if (field.Kind != HandleKind.FieldDefinition || Constant(code[i + 1]) is not { } count || !IsConstruct(code[i + 2])) return false;
        FieldDefinition f = _md.GetFieldDefinition((FieldDefinitionHandle)field);
        if (!IsPrivateImplementationDetails(f.GetDeclaringType()) || (f.Attributes & FieldAttributes.HasFieldRVA) == 0) return false;
        if (SpanOverPointer(MetadataTokens.EntityHandle((int)code[i + 2].Operand), "System.ReadOnlySpan`1") is not { } element) return false;
        return count >= 0 && count * element <= FieldDataSize(f);
    }

    /// <summary>The element size when <paramref name="ctor"/> is <c>new <paramref name="span"/>&lt;primitive&gt;(void*, int)</c>.</summary>
    private int? SpanOverPointer(EntityHandle ctor, string span)
    {
        if (ctor.Kind != HandleKind.MemberReference) return null;
        MemberReference m = _md.GetMemberReference((MemberReferenceHandle)ctor);
        if (_md.GetString(m.Name) != ".ctor" || m.Parent.Kind != HandleKind.TypeSpecification) return null;
        if (_md.GetTypeSpecification((TypeSpecificationHandle)m.Parent).DecodeSignature(_provider, null) is not Named { Args: [Prim p] } named || named.Name != span) return null;
        if (named.Origin != Origin.Framework) return null;
        MethodSignature<Sig> sig = m.DecodeMethodSignature(_provider, null);
        if (sig.ParameterTypes is not [Pointer { Element: Prim { Code: PrimitiveTypeCode.Void } }, Prim { Code: PrimitiveTypeCode.Int32 }]) return null;
        _checkedRows.Add(ctor); // approved here; the generic walk must not refuse its pointer
        return SizeOf(p.Code);
    }

    private static int? SizeOf(PrimitiveTypeCode code) => code switch
    {
        PrimitiveTypeCode.Boolean or PrimitiveTypeCode.Byte or PrimitiveTypeCode.SByte => 1,
        PrimitiveTypeCode.Char or PrimitiveTypeCode.Int16 or PrimitiveTypeCode.UInt16 => 2,
        PrimitiveTypeCode.Int32 or PrimitiveTypeCode.UInt32 or PrimitiveTypeCode.Single => 4,
        PrimitiveTypeCode.Int64 or PrimitiveTypeCode.UInt64 or PrimitiveTypeCode.Double => 8,
        _ => null,
    };

    private int FieldDataSize(FieldDefinition f) => f.DecodeSignature(_provider, null) switch
    {
        Prim p => SizeOf(p.Code) ?? 0,
        Named { Definition: { } def } => _md.GetTypeDefinition(def).GetLayout().Size,
        _ => 0,
    };

    /// <summary>A call of the compiler's <c>&lt;PrivateImplementationDetails&gt;.InlineArray*</c> helpers: its name and the buffer's length.</summary>
    private (string Name, int Length)? InlineArrayHelper(EntityHandle token)
    {
        if (token.Kind != HandleKind.MethodSpecification) return null;
        MethodSpecification spec = _md.GetMethodSpecification((MethodSpecificationHandle)token);
        if (spec.Method.Kind != HandleKind.MethodDefinition) return null;
        MethodDefinition m = _md.GetMethodDefinition((MethodDefinitionHandle)spec.Method);
        string name = _md.GetString(m.Name);
        if (!IsPrivateImplementationDetails(m.GetDeclaringType()) || !name.StartsWith("InlineArray", StringComparison.Ordinal)) return null;
        ImmutableArray<Sig> args = spec.DecodeSignature(_provider, null);
        return args switch
        {
            [Named { Origin: Origin.Script, Definition: { } buffer }, _] => (name, InlineArrayLength(buffer)),
            // .NET 10's own System.Runtime.CompilerServices.InlineArray2`1 … InlineArray16`1, which Roslyn prefers
            [Named { Origin: Origin.Framework } f, _] when f.Name.StartsWith("System.Runtime.CompilerServices.InlineArray", StringComparison.Ordinal) &&
                int.TryParse(f.Name.AsSpan()["System.Runtime.CompilerServices.InlineArray".Length..f.Name.IndexOf('`')], out int n) => (name, n),
            _ => (name, -1),
        };
    }

    /// <summary>N of the script's own <c>[InlineArray(N)]</c> struct; -1 when it has none.</summary>
    private int InlineArrayLength(TypeDefinitionHandle type)
    {
        foreach (CustomAttributeHandle h in _md.GetTypeDefinition(type).GetCustomAttributes())
        {
            CustomAttribute a = _md.GetCustomAttribute(h);
            if (MemberName(a.Constructor) != "System.Runtime.CompilerServices.InlineArrayAttribute..ctor") continue;
            BlobReader blob = _md.GetBlobReader(a.Value);
            if (blob.Length >= 6 && blob.ReadUInt16() == 1) return blob.ReadInt32();
        }
        return -1;
    }

    /// <summary>
    /// The helpers reinterpret the buffer (Unsafe / MemoryMarshal inside), so a call is allowed only with the length or
    /// index a constant inside the buffer, as Roslyn emits for <c>params</c> spans and collection expressions.
    /// </summary>
    private void CheckInlineArrayCall(List<Instruction> code, int i, (string Name, int Length) helper, Where at)
    {
        const string Why = "a compiler InlineArray helper outside the shape the compiler emits is not allowed in a V-Node script";
        if (helper.Length <= 0) { Report(at, Why); return; }
        long? k = i > 0 ? Constant(code[i - 1]) : null;
        bool ok = helper.Name switch
        {
            "InlineArrayAsSpan" or "InlineArrayAsReadOnlySpan" => k is { } n && n >= 0 && n <= helper.Length,
            "InlineArrayElementRef" or "InlineArrayElementRefReadOnly" => k is { } n && n >= 0 && n < helper.Length,
            "InlineArrayFirstElementRef" or "InlineArrayFirstElementRefReadOnly" => true,
            _ => false,
        };
        if (!ok) Report(at, Why);
    }

    /// <summary>True when the token and the call after it are an approved shape (the caller skips the call).</summary>
    private bool CheckLdtoken(List<Instruction> code, int i, Where at)
    {
        EntityHandle token = MetadataTokens.EntityHandle((int)code[i].Operand);
        EntityHandle? next = i + 1 < code.Count && code[i + 1].OpCode == (ushort)ILOpCode.Call ? MetadataTokens.EntityHandle((int)code[i + 1].Operand) : null;
        string? call = next is { } n ? MemberName(n) : null;
        bool ok = token.Kind switch
        {
            HandleKind.FieldDefinition => IsPrivateImplementationDetails(_md.GetFieldDefinition((FieldDefinitionHandle)token).GetDeclaringType()) &&
                call is "System.Runtime.CompilerServices.RuntimeHelpers.InitializeArray" or "System.Runtime.CompilerServices.RuntimeHelpers.CreateSpan",
            HandleKind.TypeDefinition => call == "System.Type.GetTypeFromHandle",
            _ => false,
        };
        if (!ok)
        {
            Report(at, "typeof / ldtoken (runtime type, method and field handles) is not allowed in a V-Node script");
            return false;
        }
        CheckMethodToken(next!.Value, at, approved: true);
        return true;
    }

    // References --------------------------------------------------------------------------------------------------------

    private void CheckMethodToken(EntityHandle token, Where at, bool approved)
    {
        switch (token.Kind)
        {
            case HandleKind.MethodDefinition:
                return; // the script's own: its body is checked where it is defined
            case HandleKind.MemberReference:
                CheckMember((MemberReferenceHandle)token, at, approved);
                return;
            case HandleKind.MethodSpecification:
                _checkedRows.Add(token);
                MethodSpecification spec = _md.GetMethodSpecification((MethodSpecificationHandle)token);
                ImmutableArray<Sig> args = spec.DecodeSignature(_provider, null);
                Report(at, CheckTypes(args));
                if (spec.Method.Kind == HandleKind.MemberReference)
                    CheckMember((MemberReferenceHandle)spec.Method, at, approved, args);
                return;
            default:
                Report(at, "an unexpected method reference is not allowed in a V-Node script");
                return;
        }
    }

    private void CheckFieldToken(EntityHandle token, Where at)
    {
        if (token.Kind == HandleKind.MemberReference) CheckMember((MemberReferenceHandle)token, at, approved: false);
        else if (token.Kind != HandleKind.FieldDefinition) Report(at, "an unexpected field reference is not allowed in a V-Node script");
    }

    private void CheckTypeToken(EntityHandle token, Where at)
    {
        _checkedRows.Add(token);
        Sig? sig = token.Kind switch
        {
            HandleKind.TypeDefinition => null,
            HandleKind.TypeReference => _provider.ReferenceSig((TypeReferenceHandle)token),
            HandleKind.TypeSpecification => _md.GetTypeSpecification((TypeSpecificationHandle)token).DecodeSignature(_provider, null),
            _ => new Refused("an unexpected type reference"),
        };
        if (sig is not null) Report(at, CheckType(sig));
    }

    /// <summary>A member of another assembly: its type allowed, the member named by the type's entry, every type of its signature allowed.</summary>
    private void CheckMember(MemberReferenceHandle handle, Where at, bool approved, ImmutableArray<Sig> methodArgs = default)
    {
        _checkedRows.Add(handle);
        MemberReference m = _md.GetMemberReference(handle);
        string name = _md.GetString(m.Name);
        Sig parent = m.Parent.Kind switch
        {
            HandleKind.TypeReference => _provider.ReferenceSig((TypeReferenceHandle)m.Parent),
            HandleKind.TypeSpecification => _md.GetTypeSpecification((TypeSpecificationHandle)m.Parent).DecodeSignature(_provider, null),
            HandleKind.TypeDefinition => new Named(_provider.TypeDefName((TypeDefinitionHandle)m.Parent), Origin.Script, [], (TypeDefinitionHandle)m.Parent),
            _ => new Refused("a member of a module or a vararg call site"),
        };
        if (CheckType(parent) is { } refusedParent) { Report(at, refusedParent, DisplayMember(parent is Named pn ? pn.Name : Display(parent), name)); return; }
        if (parent is Array) return; // T[]::Get / Set / Address / .ctor: bounds-checked runtime methods
        if (parent is not Named { } type) { Report(at, $"a member of {Display(parent)} is not allowed in a V-Node script"); return; }
        if (type.Origin == Origin.Script) return;

        string full = type.Name + "." + name;
        if (PatternOnly.Contains(full) && !approved) { Report(at, $"{DisplayMember(type.Name, name)} is not allowed in a V-Node script"); return; }

        ScriptAllowList.Entry entry = _list.Type(type.Name, fromSource: false)!;
        if (entry.HelperOnly && !_inInlineArrayHelper) { Report(at, $"{DisplayMember(type.Name, name)} is not allowed in a V-Node script"); return; }
        Sig[] signature;
        int parameters;
        if (m.GetKind() == MemberReferenceKind.Method)
        {
            MethodSignature<Sig> sig = m.DecodeMethodSignature(_provider, null);
            signature = [sig.ReturnType, .. sig.ParameterTypes];
            parameters = sig.RequiredParameterCount;
            if (sig.Header.CallingConvention == SignatureCallingConvention.VarArgs) { Report(at, "__arglist calls are not allowed in a V-Node script"); return; }
        }
        else
        {
            signature = [m.DecodeFieldSignature(_provider, null)];
            parameters = 0;
        }
        string[]? shapes = m.GetKind() == MemberReferenceKind.Method ? signature.Skip(1).Select(Shape).ToArray() : null;
        bool allowed = ScriptAllowList.AllowsMember(entry, name, () => IsScriptApi(type.Name, name, parameters, shapes));
        if (allowed && entry.DataOnlyMembers.Contains(name) && !entry.AllMembers && !entry.Members.Contains(name))
            allowed = !methodArgs.IsDefault && methodArgs.All(a => IsPlainData(a, new HashSet<TypeDefinitionHandle>()));
        if (allowed && entry.RefusedSignatureTypes.Count > 0 && signature.Any(s => Mentions(s, entry.RefusedSignatureTypes))) allowed = false;
        if (!allowed) { Report(at, $"{DisplayMember(type.Name, name)} is not allowed in a V-Node script"); return; }
        if (PatternOnly.Contains(full)) return;
        bool attribute = name == ".ctor" && type.Name.EndsWith("Attribute", StringComparison.Ordinal); // a Type argument there is a name in metadata
        if (!attribute && signature.FirstOrDefault(s => MentionsHandleOtherThan(s, type.Name)) is { } handleSig)
        {
            Report(at, $"{DisplayMember(type.Name, name)} takes or gives a runtime handle or Type ({Display(handleSig)}) and is not allowed in a V-Node script");
            return;
        }
        Report(at, CheckTypes(signature), DisplayMember(type.Name, name));
    }

    private readonly Dictionary<(string, string, string), bool> _scriptApi = new();

    private bool IsScriptApi(string typeName, string member, int parameters, string[]? shapes)
    {
        var key = (typeName, member, shapes is null ? parameters.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Join(',', shapes));
        if (_scriptApi.TryGetValue(key, out bool known)) return known;
        Type? t = ScriptSurface.ClrType(typeName);
        return _scriptApi[key] = t is not null && ScriptSurface.IsVisible(t, member, parameters, shapes);
    }

    // Types ---------------------------------------------------------------------------------------------------------------

    /// <summary>Null when every type in <paramref name="sig"/> is allowed, else why not.</summary>
    private string? CheckType(Sig sig) => sig switch
    {
        Prim { Code: PrimitiveTypeCode.TypedReference } => "TypedReference is not allowed in a V-Node script",
        Prim or GenericParam => null,
        Pointer or FunctionPointer => "pointers and function pointers are not allowed in a V-Node script",
        Array a => CheckType(a.Element),
        ByRef r => CheckType(r.Element),
        Pinned => "pinned locals are not allowed in a V-Node script",
        Modified md => CheckType(md.Modifier) ?? CheckType(md.Type),
        Refused r => r.Why + " is not allowed in a V-Node script",
        Named n => CheckNamed(n),
        _ => "an unknown type is not allowed in a V-Node script",
    };

    private string? CheckTypes(IEnumerable<Sig> sigs)
    {
        foreach (Sig s in sigs) if (CheckType(s) is { } why) return why;
        return null;
    }

    private string? CheckNamed(Named n)
    {
        if (n.Origin == Origin.Other) return $"{Display(n)} (from another assembly) is not allowed in a V-Node script";
        if (n.Origin != Origin.Script)
        {
            bool nicscript = n.Name.StartsWith("NicScript.", StringComparison.Ordinal), protobuf = n.Name.StartsWith("Google.Protobuf.", StringComparison.Ordinal);
            bool consistent = n.Origin switch { Origin.NicScript => nicscript, Origin.Protobuf => protobuf, _ => !nicscript && !protobuf };
            if (!consistent || _list.Type(n.Name, fromSource: false) is null) return $"{Display(n)} is not allowed in a V-Node script";
            if (n.Name.StartsWith("System.Text.RegularExpressions.", StringComparison.Ordinal) && !RegexDefaults.InEffect)
                return $"{Display(n)} is unavailable: this process could not set the default Regex match timeout";
        }
        foreach (Sig a in n.Args) if (CheckType(a) is { } why) return why;
        return null;
    }

    /// <summary>Whether <paramref name="sig"/> names a type whose entry keeps it to its own members' signatures (Type, runtime handles).</summary>
    private bool MentionsHandleOtherThan(Sig sig, string owner) => sig switch
    {
        Named n => n.Origin != Origin.Script && n.Name != owner && _list.Type(n.Name, fromSource: false) is { OwnSignaturesOnly: true }
            || n.Args.Any(a => MentionsHandleOtherThan(a, owner)),
        Array a => MentionsHandleOtherThan(a.Element, owner),
        ByRef r => MentionsHandleOtherThan(r.Element, owner),
        Modified m => MentionsHandleOtherThan(m.Type, owner),
        _ => false,
    };

    private static bool Mentions(Sig sig, IReadOnlySet<string> names) => sig switch
    {
        Named n => names.Contains(n.Name) || n.Args.Any(a => Mentions(a, names)),
        Array a => Mentions(a.Element, names),
        ByRef r => Mentions(r.Element, names),
        Modified m => Mentions(m.Type, names),
        _ => false,
    };

    /// <summary>What a reflection-based serializer may walk: values, strings, collections of them, the script's own types made of them.</summary>
    private bool IsPlainData(Sig sig, HashSet<TypeDefinitionHandle> seen)
    {
        switch (sig)
        {
            case Prim p: return p.Code is not (PrimitiveTypeCode.Object or PrimitiveTypeCode.TypedReference or PrimitiveTypeCode.IntPtr or PrimitiveTypeCode.UIntPtr);
            case GenericParam: return true; // bound to an argument that is checked itself
            case Array a: return IsPlainData(a.Element, seen);
            case Named { Origin: Origin.Script, Definition: { } def } n:
                if (!n.Args.All(a => IsPlainData(a, seen))) return false;
                if (!seen.Add(def)) return true;
                TypeDefinition t = _md.GetTypeDefinition(def);
                foreach (FieldDefinitionHandle f in t.GetFields())
                    if ((_md.GetFieldDefinition(f).Attributes & FieldAttributes.Static) == 0 && !IsPlainData(_md.GetFieldDefinition(f).DecodeSignature(_provider, null), seen)) return false;
                foreach (PropertyDefinitionHandle p in t.GetProperties())
                    if (!IsPlainData(_md.GetPropertyDefinition(p).DecodeSignature(_provider, null).ReturnType, seen)) return false;
                return true;
            case Named { Origin: Origin.Framework } n:
                return n.Name is "System.DateTime" or "System.DateTimeOffset" or "System.TimeSpan" or "System.Guid" or "System.Decimal" or "System.Nullable`1"
                    or "System.Collections.Generic.List`1" or "System.Collections.Generic.Dictionary`2" or "System.Collections.Generic.IEnumerable`1"
                    or "System.Collections.Generic.IReadOnlyList`1" or "System.Collections.Generic.IList`1" or "System.Collections.Generic.IReadOnlyDictionary`2"
                    or "System.Collections.Generic.KeyValuePair`2" or "System.Collections.Generic.HashSet`1" or "System.Int128" or "System.UInt128"
                    or "System.Half" or "System.DateOnly" or "System.TimeOnly"
                    && n.Args.All(a => IsPlainData(a, seen));
            default:
                return false;
        }
    }

    // Names and places ------------------------------------------------------------------------------------------------

    private bool IsPrivateImplementationDetails(TypeDefinitionHandle t) =>
        !t.IsNil && _md.GetTypeDefinition(t).GetDeclaringType().IsNil && _md.GetString(_md.GetTypeDefinition(t).Name).StartsWith("<PrivateImplementationDetails>", StringComparison.Ordinal);

    /// <summary><c>Namespace.Type.Member</c> of a method or field reference (generic arguments left out), for pattern matching.</summary>
    private string? MemberName(EntityHandle token)
    {
        if (token.Kind == HandleKind.MethodSpecification) token = _md.GetMethodSpecification((MethodSpecificationHandle)token).Method;
        if (token.Kind != HandleKind.MemberReference) return null;
        MemberReference m = _md.GetMemberReference((MemberReferenceHandle)token);
        string? parent = m.Parent.Kind switch
        {
            HandleKind.TypeReference => _provider.TypeRefName((TypeReferenceHandle)m.Parent),
            HandleKind.TypeSpecification => (_md.GetTypeSpecification((TypeSpecificationHandle)m.Parent).DecodeSignature(_provider, null) as Named)?.Name,
            _ => null,
        };
        return parent is null ? null : parent + "." + _md.GetString(m.Name);
    }

    private void Report(Where at, string? message, string? member = null)
    {
        if (message is null) return;
        Position? pos = _positions.Resolve(at);
        SourceSpan span = pos is { } p ? new SourceSpan(p.File, p.Line, p.Column) : SourceSpan.None(_fallbackFile);
        if (!_seen.Add((span.File, span.Line, message))) return; // one line per reason and line, however many members of a refused type it uses
        // A row the walk of definitions and bodies did not place: worth a line only if no placed problem said the same.
        if (pos is null && _problems.Any(q => q.Message.Contains(message, StringComparison.Ordinal))) return;
        if (member is not null) message = $"{member}: {message}";
        _problems.Add(new ScriptProblem(span, message));
    }
}
