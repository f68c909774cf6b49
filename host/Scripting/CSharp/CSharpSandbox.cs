using System.Collections.Frozen;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Walks a script's semantic model and refuses every symbol outside the allow-list, and unsafe syntax: the messages.</summary>
/// <remarks>
/// Deny by default, from the same <see cref="ScriptAllowList"/> the IL check uses (<see cref="ScriptAssemblyVerifier"/>),
/// so the two agree; this check exists for its messages (the API's name at its line and column), the IL check for the
/// guarantee. Entries marked il-only (what the compiler or the budget injector emits) are refused here. Both the symbol
/// an expression binds to and the expression's type are checked (with generic arguments and array elements), so
/// <c>typeof(x).Assembly</c> is refused twice over: as a member of <c>System.Type</c> and as a <c>System.Reflection</c> value.
/// Which members of a NicScript type a script may name is the <see cref="ScriptSurface"/>'s answer, asked of the CLR
/// member a symbol is, so this check, the IL check and JavaScript can never disagree on a handle.
/// </remarks>
internal sealed class CSharpSandbox
{
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
                if (!IsSmallConstantStackAlloc(node)) Refuse(node, "stackalloc is allowed only as a constant size of at most 1024 numbers into a Span, outside loops");
                break;
            case MakeRefExpressionSyntax or RefTypeExpressionSyntax or RefValueExpressionSyntax:
                Refuse(node, "__makeref, __reftype and __refvalue are not allowed in a V-Node script");
                return;
            case ExpressionSyntax a when a.IsKind(SyntaxKind.ArgListExpression):
                Refuse(node, "__arglist is not allowed in a V-Node script");
                return;
        }

        if (node is MethodDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax)
        {
            ISymbol? function = node is AnonymousFunctionExpressionSyntax ? _model.GetSymbolInfo(node).Symbol : _model.GetDeclaredSymbol(node);
            if (function is IMethodSymbol { IsAsync: true, ReturnsVoid: true })
                Refuse(node, "async void methods and lambdas are not allowed in a V-Node script: their exceptions reach a thread the V-Node does not own (return a Task)");
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

    /// <summary>The one stackalloc the IL check allows: <c>stackalloc T[N]</c>, N a literal up to 1024, T a number, no initializer, not in a loop.</summary>
    /// <remarks>In a loop every iteration takes more stack until the method returns: the host's stack would overflow, which no budget can catch.</remarks>
    private bool IsSmallConstantStackAlloc(SyntaxNode node)
    {
        if (node is not StackAllocArrayCreationExpressionSyntax { Type: ArrayTypeSyntax array, Initializer: null }) return false;
        ExpressionSyntax? size = array.RankSpecifiers.FirstOrDefault()?.Sizes.FirstOrDefault();
        if (size is not LiteralExpressionSyntax { Token.Value: int n } || n is < 0 or > 1024) return false;
        if (_model.GetTypeInfo(array.ElementType).Type is not { SpecialType: >= SpecialType.System_Boolean and <= SpecialType.System_Double }) return false;
        for (SyntaxNode? up = node.Parent; up is not null and not (MemberDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax); up = up.Parent)
            if (up is WhileStatementSyntax or DoStatementSyntax or ForStatementSyntax or CommonForEachStatementSyntax or LabeledStatementSyntax) return false;
        return true;
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
            case IMethodSymbol { MethodKind: MethodKind.BuiltinOperator, ContainingType: { TypeKind: TypeKind.Enum } enumType }:
                CheckType(at, enumType); // SessionFlags.PRIMARY | SessionFlags.LISTEN_TX: integer arithmetic in IL, no member of the enum
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
        ScriptAllowList.Entry? entry = ScriptAllowList.Default.Type(Metadata(container.OriginalDefinition), fromSource: true);
        if (entry is null)
        {
            if (IsNicScript(container)) Refuse(at, $"{Name(symbol)} is not allowed in a V-Node script");
            else CheckType(at, container); // the type's own refusal, as its name in the source gets
            return;
        }
        ISymbol original = symbol.OriginalDefinition;
        foreach (string member in MetadataNames(at, original))
        {
            if (ScriptAllowList.AllowsMember(entry, member, () => OnSurface(container, member, original))) continue;
            Refuse(at, entry.ScriptApi && IsNicScript(container) ? $"{Name(symbol)} is not part of the NicScript script API" : $"{Name(symbol)} is not allowed in a V-Node script");
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

    /// <summary>The metadata names a use of <paramref name="symbol"/> at <paramref name="at"/> compiles to: a property's getter, setter or both.</summary>
    private static IEnumerable<string> MetadataNames(SyntaxNode at, ISymbol symbol)
    {
        switch (symbol)
        {
            case IPropertySymbol p:
                string name = p.IsIndexer ? p.MetadataName.Replace("this[]", "Item", StringComparison.Ordinal) : p.MetadataName;
                (bool reads, bool writes) = Access(at);
                if (reads || !writes) yield return p.GetMethod?.MetadataName ?? "get_" + name;
                if (writes) yield return p.SetMethod?.MetadataName ?? "set_" + name;
                break;
            case IEventSymbol e:
                yield return "add_" + e.MetadataName;
                break;
            default:
                yield return symbol.MetadataName;
                break;
        }
    }

    /// <summary>Whether the expression at <paramref name="at"/> is read, written (an assignment's target), or both (<c>+=</c>, <c>++</c>, <c>ref</c>).</summary>
    private static (bool Reads, bool Writes) Access(SyntaxNode at)
    {
        SyntaxNode node = at;
        while (node.Parent is MemberAccessExpressionSyntax m && m.Name == node || node.Parent is MemberBindingExpressionSyntax) node = node.Parent;
        if (node.Parent is ConditionalAccessExpressionSyntax c && c.WhenNotNull == node) node = c;
        return node.Parent switch
        {
            AssignmentExpressionSyntax a when a.Left == node => (!a.IsKind(SyntaxKind.SimpleAssignmentExpression), true),
            PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PostIncrementExpression or (int)SyntaxKind.PostDecrementExpression } or
            PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PreIncrementExpression or (int)SyntaxKind.PreDecrementExpression } => (true, true), // not x! (a read)
            ArgumentSyntax { RefKindKeyword.RawKind: not (int)SyntaxKind.None } => (true, true),
            _ => (true, false),
        };
    }

    /// <summary>Whether naming a member of a value or type of <paramref name="receiver"/> passes this check, for completion
    /// (which offers only what would run); <paramref name="named"/> are what the name binds to there (extension methods
    /// included). Only a NicScript receiver is filtered: one of them must pass the allow-list and the script surface, as
    /// a use would; a name that binds to nothing (the indexer Roslyn lists as <c>this</c>) is not offered. Any other
    /// receiver passes: the check still runs before the code.</summary>
    internal static bool MayName(ITypeSymbol receiver, IEnumerable<ISymbol> named) =>
        receiver is not INamedTypeSymbol type || !IsNicScript(type) || IsScriptDeclared(type) || named.Any(MayUse);

    /// <summary>Whether a read or call of <paramref name="symbol"/> passes the allow-list and the script surface.</summary>
    private static bool MayUse(ISymbol symbol)
    {
        if (symbol.ContainingType is not { } container || IsScriptDeclared(container)) return true;
        if (ScriptAllowList.Default.Type(Metadata(container.OriginalDefinition), fromSource: true) is not { } entry) return false;
        ISymbol original = symbol.OriginalDefinition;
        string member = original switch
        {
            IPropertySymbol p => p.GetMethod?.MetadataName ?? "get_" + p.MetadataName,
            IEventSymbol e => "add_" + e.MetadataName,
            _ => original.MetadataName,
        };
        return ScriptAllowList.AllowsMember(entry, member, () => OnSurface(container, member, original));
    }

    /// <summary>Whether the use of <paramref name="symbol"/> as <paramref name="member"/> (a metadata name) reaches the
    /// script surface: <see cref="ScriptSurface"/> decides, on the CLR member the symbol is (by its parameters' shapes),
    /// exactly as the IL check asks it of the reference the compiler emits (an accessor through its property).</summary>
    private static bool OnSurface(INamedTypeSymbol container, string member, ISymbol symbol)
    {
        if (ScriptSurface.ClrType(Metadata(container.OriginalDefinition)) is not { } type) return false;
        ImmutableArray<IParameterSymbol> parameters = symbol is IMethodSymbol m ? (m.ReducedFrom ?? m).Parameters : [];
        string[]? shapes = symbol is IMethodSymbol ? [.. parameters.Select(Shape)] : null;
        return ScriptSurface.IsVisible(type, member, parameters.Length, shapes);
    }

    /// <summary>A parameter's type as <see cref="ScriptSurface.Shape(Type)"/> spells the same type from reflection.</summary>
    private static string Shape(IParameterSymbol p) => Shape(p.Type) + (p.RefKind == RefKind.None ? "" : "&");

    private static string Shape(ITypeSymbol t) => t switch
    {
        IArrayTypeSymbol a => Shape(a.ElementType) + "[]",
        ITypeParameterSymbol => "!",
        IPointerTypeSymbol p => Shape(p.PointedAtType) + "*",
        IDynamicTypeSymbol => "System.Object",
        INamedTypeSymbol n => Metadata(n.OriginalDefinition),
        _ => "?",
    };

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
                if (IsScriptDeclared(named)) { CheckTypeArguments(at, named); return; }
                INamedTypeSymbol def = named.OriginalDefinition;
                if (ScriptAllowList.Default.Type(Metadata(def), fromSource: true) is null)
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
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType) name = outer.MetadataName + "+" + name;
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
