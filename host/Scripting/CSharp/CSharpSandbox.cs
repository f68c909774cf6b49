using System.Collections.Frozen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Walks a script's semantic model and refuses every symbol outside the allow-list, and unsafe syntax.</summary>
/// <remarks>
/// An allow-list, not a deny-list: a type is usable only if its namespace is listed (and, for <c>System</c>, the
/// type itself), a NicScript member only if it carries <see cref="ScriptApiAttribute"/>. Both the symbol an
/// expression binds to and the expression's type are checked (with generic arguments and array elements), so
/// <c>typeof(x).Assembly</c> is refused twice over: as a member of <c>System.Type</c> and as a
/// <c>System.Reflection</c> value.
/// </remarks>
internal sealed class CSharpSandbox
{
    /// <summary>Namespaces whose every type is allowed (members may still be refused below).</summary>
    private static readonly FrozenSet<string> OpenNamespaces = new[]
    {
        "System.Collections", "System.Collections.Generic", "System.Collections.Immutable", "System.Collections.ObjectModel", "System.Linq",
        "System.Text", "System.Text.RegularExpressions", "System.Buffers.Binary", "System.Buffers.Text", "System.Numerics",
        "System.Globalization", "System.Text.Json", "Google.Protobuf", "Google.Protobuf.Collections"
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Types of <c>System</c>, <c>System.Buffers</c> and <c>System.Threading(.Tasks)</c> that scripts may use.</summary>
    private static readonly FrozenSet<string> OpenTypes = new[]
    {
        "System.Object", "System.String", "System.Boolean", "System.Byte", "System.SByte", "System.Int16", "System.UInt16",
        "System.Int32", "System.UInt32", "System.Int64", "System.UInt64", "System.Single", "System.Double", "System.Decimal",
        "System.Char", "System.Half", "System.Int128", "System.UInt128", "System.Void", "System.Math", "System.MathF", "System.Array",
        "System.Span`1", "System.ReadOnlySpan`1", "System.Memory`1", "System.ReadOnlyMemory`1", "System.ArraySegment`1",
        "System.MemoryExtensions", "System.BitConverter", "System.Convert", "System.DateTime", "System.DateTimeOffset",
        "System.DateTimeKind", "System.DayOfWeek", "System.TimeSpan", "System.Guid", "System.Nullable", "System.Nullable`1",
        "System.ValueTuple", "System.Tuple", "System.Enum", "System.Index", "System.Range", "System.HashCode", "System.Random",
        "System.StringComparison", "System.StringComparer", "System.StringSplitOptions", "System.MidpointRounding",
        "System.IComparable", "System.IComparable`1", "System.IEquatable`1", "System.IDisposable", "System.IFormattable",
        "System.FormattableString", "System.IFormatProvider", "System.ISpanFormattable", "System.Predicate`1", "System.Comparison`1",
        "System.Converter`2", "System.Lazy`1", "System.Exception", "System.ArgumentException", "System.ArgumentNullException",
        "System.ArgumentOutOfRangeException", "System.InvalidOperationException", "System.NotSupportedException",
        "System.NotImplementedException", "System.FormatException", "System.OverflowException", "System.IndexOutOfRangeException",
        "System.DivideByZeroException", "System.ArithmeticException", "System.InvalidCastException", "System.NullReferenceException",
        "System.KeyNotFoundException", "System.TimeoutException", "System.OperationCanceledException", "System.AggregateException",
        "System.Attribute", "System.FlagsAttribute", "System.ObsoleteAttribute", "System.EventArgs", "System.IAsyncDisposable",
        "System.Buffers.ArrayPool`1", "System.Buffers.IBufferWriter`1", "System.Buffers.ArrayBufferWriter`1",
        "System.Threading.Tasks.Task", "System.Threading.Tasks.Task`1", "System.Threading.Tasks.ValueTask", "System.Threading.Tasks.ValueTask`1",
        "System.Threading.CancellationToken", "System.Runtime.CompilerServices.TaskAwaiter", "System.Runtime.CompilerServices.TaskAwaiter`1",
        "System.Runtime.CompilerServices.DefaultInterpolatedStringHandler", "System.Runtime.CompilerServices.FormattableStringFactory",
        "System.Runtime.CompilerServices.IsExternalInit", "System.Runtime.CompilerServices.ITuple",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Members of allowed types that still open a door: reflection, threads, timers, the process.</summary>
    private static readonly FrozenSet<string> RefusedMembers = new[]
    {
        "System.Object.GetType", "System.Threading.Tasks.Task.Run", "System.Threading.Tasks.Task.Factory", "System.Threading.Tasks.Task.Delay",
        "System.Threading.Tasks.Task.Yield", "System.Threading.Tasks.Task.ConfigureAwait", "System.Threading.Tasks.Task.Start",
        "System.Threading.Tasks.Task.RunSynchronously", "System.Threading.Tasks.Task.Wait", "System.Threading.Tasks.Task.WaitAll",
        "System.Threading.Tasks.Task.WaitAny", "System.Threading.Tasks.Task`1.Factory", "System.Threading.Tasks.Task`1.Result",
        "System.Array.CreateInstance", "System.Array.CreateInstanceFromArrayType", "System.Enum.GetUnderlyingType",
        "System.Exception.TargetSite", "System.Exception.Data", "System.Delegate.Method", "System.Delegate.DynamicInvoke",
        "System.MulticastDelegate.GetInvocationList", "System.Exception.HResult", "System.Exception.StackTrace",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Full names with namespaces and no C# keywords: <c>System.Object.GetType</c>, not <c>object.GetType</c>.</summary>
    private static readonly SymbolDisplayFormat FullName = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters);

    private readonly SemanticModel _model;
    private readonly string _displayFile;
    private readonly List<ScriptProblem> _problems;
    private readonly HashSet<(int, int, string)> _seen = new();

    private CSharpSandbox(SemanticModel model, string displayFile, List<ScriptProblem> problems)
    {
        _model = model;
        _displayFile = displayFile;
        _problems = problems;
    }

    /// <summary>Adds a problem for every refused symbol and construct in <paramref name="tree"/>.</summary>
    public static void Check(Compilation compilation, SyntaxTree tree, string displayFile, List<ScriptProblem> problems)
    {
        var sandbox = new CSharpSandbox(compilation.GetSemanticModel(tree), displayFile, problems);
        foreach (SyntaxNode node in tree.GetRoot().DescendantNodesAndSelf(descendIntoTrivia: true)) sandbox.Visit(node);
    }

    private void Visit(SyntaxNode node)
    {
        switch (node)
        {
            case ReferenceDirectiveTriviaSyntax r:
                Refuse(r, "#r is not allowed in a V-Node script (the allowed API is already referenced)");
                return;
            case LoadDirectiveTriviaSyntax load when !SiblingSourceResolver.IsSibling(load.File.ValueText):
                Refuse(load, $"#load \"{load.File.ValueText}\" is not allowed: only a sibling .csx file in the script's folder may be loaded");
                return;
            case UnsafeStatementSyntax or PointerTypeSyntax or FunctionPointerTypeSyntax or FixedStatementSyntax:
                Refuse(node, "unsafe code is not allowed in a V-Node script");
                return;
            case StackAllocArrayCreationExpressionSyntax or ImplicitStackAllocArrayCreationExpressionSyntax:
                if (!IsSmallConstantStackAlloc(node)) Refuse(node, "stackalloc is allowed only with a constant size of at most 1024 elements");
                return;
            case MakeRefExpressionSyntax or RefTypeExpressionSyntax or RefValueExpressionSyntax:
                Refuse(node, "__makeref, __reftype and __refvalue are not allowed in a V-Node script");
                return;
            case ExpressionSyntax a when a.IsKind(SyntaxKind.ArgListExpression):
                Refuse(node, "__arglist is not allowed in a V-Node script");
                return;
        }

        if (node is MemberDeclarationSyntax or LocalFunctionStatementSyntax or LocalDeclarationStatementSyntax)
        {
            SyntaxTokenList modifiers = node switch
            {
                MemberDeclarationSyntax m => m.Modifiers,
                LocalFunctionStatementSyntax f => f.Modifiers,
                LocalDeclarationStatementSyntax l => l.Modifiers,
                _ => default,
            };
            foreach (SyntaxToken m in modifiers)
            {
                if (m.IsKind(SyntaxKind.UnsafeKeyword)) Refuse(m, "unsafe code is not allowed in a V-Node script");
                if (m.IsKind(SyntaxKind.ExternKeyword)) Refuse(m, "extern methods (P/Invoke) are not allowed in a V-Node script");
            }
        }

        if (node is ExpressionSyntax or TypeSyntax or AttributeSyntax or ConstructorInitializerSyntax or
            PrimaryConstructorBaseTypeSyntax or CrefSyntax)
        {
            SymbolInfo info = _model.GetSymbolInfo(node);
            if (info.Symbol is { } symbol) CheckSymbol(node, symbol);
            else foreach (ISymbol candidate in info.CandidateSymbols) CheckSymbol(node, candidate);
        }
        if (node is ExpressionSyntax expression)
        {
            TypeInfo type = _model.GetTypeInfo(expression);
            if (type.Type is { } t) CheckType(node, t);
            if (type.ConvertedType is { } ct && !SymbolEqualityComparer.Default.Equals(ct, type.Type)) CheckType(node, ct);
        }
        if (node is VariableDeclaratorSyntax or ParameterSyntax or ForEachStatementSyntax)
        {
            if (_model.GetDeclaredSymbol(node) is { } declared)
            {
                ITypeSymbol? t = declared switch
                {
                    ILocalSymbol l => l.Type,
                    IParameterSymbol p => p.Type,
                    IFieldSymbol f => f.Type,
                    _ => null,
                };
                if (t is not null) CheckType(node, t);
            }
        }
    }

    private static bool IsSmallConstantStackAlloc(SyntaxNode node)
    {
        if (node is not StackAllocArrayCreationExpressionSyntax { Type: ArrayTypeSyntax array }) return node is ImplicitStackAllocArrayCreationExpressionSyntax i && i.Initializer.Expressions.Count <= 1024;
        ExpressionSyntax? size = array.RankSpecifiers.FirstOrDefault()?.Sizes.FirstOrDefault();
        return size is LiteralExpressionSyntax { Token.Value: int n } && n is >= 0 and <= 1024;
    }

    private void CheckSymbol(SyntaxNode at, ISymbol symbol)
    {
        switch (symbol)
        {
            case INamespaceSymbol or ILocalSymbol or IParameterSymbol or ILabelSymbol or IRangeVariableSymbol or IDiscardSymbol:
                return;
            case ITypeSymbol type:
                CheckType(at, type);
                return;
            case IMethodSymbol { MethodKind: MethodKind.LocalFunction or MethodKind.AnonymousFunction } local:
                CheckType(at, local.ReturnType);
                return;
        }

        if (symbol is IMethodSymbol { IsExtern: true } || symbol.GetAttributes().Any(a => a.AttributeClass?.Name == "DllImportAttribute"))
        {
            Refuse(at, $"{Name(symbol)} is a P/Invoke and not allowed in a V-Node script");
            return;
        }

        INamedTypeSymbol? container = symbol.ContainingType;
        if (container is null) return;
        if (IsScriptDeclared(container)) return;
        string member = Metadata(container.OriginalDefinition) + "." + symbol.Name;
        if (RefusedMembers.Contains(member))
        {
            Refuse(at, $"{Name(symbol)} is not allowed in a V-Node script");
            return;
        }
        if (IsNicScript(container) && container.ContainingNamespace?.ToDisplayString() != "NicScript.Dpu.V1") // generated DPU messages are plain data
        {
            // The object model: only [ScriptApi] members (and what a record/object gives every type, like ToString).
            ISymbol original = symbol.OriginalDefinition;
            bool exposed = original.GetAttributes().Any(a => a.AttributeClass?.Name == nameof(ScriptApiAttribute))
                || (original is IMethodSymbol m && m.ContainingType.SpecialType == SpecialType.System_Object)
                || original.Name is "ToString" or "Equals" or "GetHashCode";
            if (!exposed) Refuse(at, $"{Name(symbol)} is not part of the NicScript script API");
            return;
        }
        CheckType(at, container);
        if (symbol is IMethodSymbol method)
        {
            CheckType(at, method.ReturnType);
            foreach (ITypeSymbol arg in method.TypeArguments) CheckType(at, arg);
        }
        else if (symbol is IPropertySymbol property) CheckType(at, property.Type);
        else if (symbol is IFieldSymbol field) CheckType(at, field.Type);
    }

    private void CheckType(SyntaxNode at, ITypeSymbol type)
    {
        switch (type)
        {
            case IErrorTypeSymbol or ITypeParameterSymbol:
                return;
            case IDynamicTypeSymbol:
                Refuse(at, "dynamic is not allowed in a V-Node script");
                return;
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                Refuse(at, "pointers are not allowed in a V-Node script");
                return;
            case IArrayTypeSymbol array:
                CheckType(at, array.ElementType);
                return;
            case INamedTypeSymbol named:
                if (named.IsAnonymousType || named.IsTupleType && named.TupleUnderlyingType is null) { CheckTypeArguments(at, named); return; }
                if (IsScriptDeclared(named) || IsNicScript(named)) { CheckTypeArguments(at, named); return; }
                INamedTypeSymbol def = named.OriginalDefinition;
                string ns = def.ContainingNamespace?.ToDisplayString() ?? "";
                string meta = Metadata(def);
                bool delegateOrTuple = ns == "System" && (def.Name is "Func" or "Action" or "ValueTuple" or "Tuple");
                if (!(OpenNamespaces.Contains(ns) || OpenTypes.Contains(meta) || delegateOrTuple || def.SpecialType != SpecialType.None && ns == "System"))
                {
                    Refuse(at, $"{def.ToDisplayString(FullName)} is not allowed in a V-Node script");
                    return;
                }
                CheckTypeArguments(at, named);
                return;
        }
    }

    private void CheckTypeArguments(SyntaxNode at, INamedTypeSymbol named)
    {
        foreach (ITypeSymbol arg in named.TypeArguments) CheckType(at, arg);
        if (named.IsTupleType) foreach (IFieldSymbol e in named.TupleElements) CheckType(at, e.Type);
    }

    private static bool IsNicScript(INamedTypeSymbol type) =>
        type.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "NicScript" || ns.StartsWith("NicScript.", StringComparison.Ordinal));

    /// <summary>Types the script declares itself (they live in the submission, not in a referenced assembly).</summary>
    private static bool IsScriptDeclared(INamedTypeSymbol type) => type.Locations.Any(l => l.IsInSource);

    private static string Metadata(INamedTypeSymbol type)
    {
        string ns = type.ContainingNamespace?.ToDisplayString() ?? "";
        string name = type.MetadataName;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType) name = outer.MetadataName + "." + name;
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static string Name(ISymbol symbol) =>
        symbol.ContainingType is { } t ? t.OriginalDefinition.ToDisplayString(FullName) + "." + symbol.Name : symbol.ToDisplayString(FullName);

    private void Refuse(SyntaxNode node, string message) => Refuse(node.GetLocation(), message);

    private void Refuse(SyntaxToken token, string message) => Refuse(token.GetLocation(), message);

    private void Refuse(Location location, string message)
    {
        FileLinePositionSpan span = location.GetLineSpan();
        int line = span.StartLinePosition.Line + 1, column = span.StartLinePosition.Character + 1;
        if (!_seen.Add((line, column, message))) return;
        // Report each API once per position: an expression and its parent often bind to the same member.
        if (_problems.Any(p => p.At.Line == line && p.Message == message)) return;
        _problems.Add(new ScriptProblem(new SourceSpan(_displayFile, line, column), message));
    }
}
