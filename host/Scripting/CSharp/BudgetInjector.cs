using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Rewrites a checked script so every loop iteration and jump back runs <see cref="ScriptBudget.Check"/>, and every
/// body <see cref="ScriptBudget.CheckEntry"/>.</summary>
/// <remarks>
/// Design: the check goes first in every loop body, every method / local function / lambda / accessor /
/// operator / constructor body, every switch section and every labeled statement (the targets of <c>goto</c>), so no
/// path can run long or recurse deep without meeting one. Expression bodies become block bodies; whether one returns a
/// value comes from the semantic model of the original tree, so the rewriter queries it before rewriting children.
/// The inserted statement carries no newline, so the script's line numbers are unchanged (columns on a line that
/// gained a check shift right). Runs after the sandbox, so a script can never name the check itself.
/// Each top-level statement (and top-level variable) is preceded by <see cref="ScriptBudget.Statement"/> with its
/// place in the original text, so a budget stop that no check's stack locates — a library call that allocates or
/// spins past the limit and returns to no loop — still names the line that was running. The top level runs once, so
/// these marks cost nothing on a packet path; loops and bodies keep their check without a place.
/// </remarks>
internal sealed class BudgetInjector : CSharpSyntaxRewriter
{
    /// <summary>At a jump back (loop iteration, label, switch section): CPU flag and bytes allocated.</summary>
    private static readonly StatementSyntax CheckStatement =
        ParseStatement("global::NicScript.Host.Scripting.ScriptBudget.Check();").WithTrailingTrivia(Space);

    /// <summary>At the entry of a body: the same, and the stack (only a call makes it deeper).</summary>
    private static readonly StatementSyntax EntryCheckStatement =
        ParseStatement("global::NicScript.Host.Scripting.ScriptBudget.CheckEntry();").WithTrailingTrivia(Space);

    private readonly SemanticModel _model;
    private readonly bool _markStatements;

    private BudgetInjector(SemanticModel model, bool markStatements) => (_model, _markStatements) = (model, markStatements);

    /// <param name="markStatements">False for a <c>#load</c>ed sibling: a statement's place is reported with the script's
    /// own file name, so only the script's (or a REPL submission's) top level is marked.</param>
    public static SyntaxTree Rewrite(SyntaxTree tree, SemanticModel model, bool markStatements = true)
    {
        SyntaxNode root = new BudgetInjector(model, markStatements).Visit(tree.GetRoot());
        return tree.WithRootAndOptions(root, tree.Options);
    }

    // Top level: a statement mark before each statement ---------------------------------------------------------------
    public override SyntaxNode? VisitCompilationUnit(CompilationUnitSyntax node)
    {
        var places = node.Members.Select(static m => m.GetLocation().GetLineSpan().StartLinePosition).ToList();
        var n = (CompilationUnitSyntax)base.VisitCompilationUnit(node)!;
        if (!_markStatements) return n;
        var members = new List<MemberDeclarationSyntax>(n.Members.Count * 2);
        for (int i = 0; i < n.Members.Count; i++)
        {
            MemberDeclarationSyntax member = n.Members[i];
            if (member is GlobalStatementSyntax or FieldDeclarationSyntax)
            {
                var (line, column) = (places[i].Line + 1, places[i].Character + 1);
                var mark = GlobalStatement(ParseStatement($"global::NicScript.Host.Scripting.ScriptBudget.Statement({line}, {column});"));
                // At the end of the line before (ahead of its comment and line break), so no column of the statement moves
                // in stack traces; the first statement's mark goes ahead of the file's leading comments, unless a directive
                // (#r, #load) must stay first.
                if (members.Count > 0)
                {
                    SyntaxTriviaList after = members[^1].GetTrailingTrivia();
                    members[^1] = members[^1].WithTrailingTrivia(Space);
                    members.Add(mark.WithTrailingTrivia(after));
                }
                else if (!member.GetLeadingTrivia().Any(static t => t.IsDirective))
                    members.Add(mark.WithTrailingTrivia(Space));
                else
                {
                    members.Add(mark.WithLeadingTrivia(member.GetLeadingTrivia()).WithTrailingTrivia(Space));
                    member = member.WithoutLeadingTrivia();
                }
            }
            members.Add(member);
        }
        return n.WithMembers(List(members));
    }

    // Loops --------------------------------------------------------------------------------------------------------
    public override SyntaxNode? VisitWhileStatement(WhileStatementSyntax node) =>
        Loop((WhileStatementSyntax)base.VisitWhileStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    public override SyntaxNode? VisitDoStatement(DoStatementSyntax node) =>
        Loop((DoStatementSyntax)base.VisitDoStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    public override SyntaxNode? VisitForStatement(ForStatementSyntax node) =>
        Loop((ForStatementSyntax)base.VisitForStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    public override SyntaxNode? VisitForEachStatement(ForEachStatementSyntax node) =>
        Loop((ForEachStatementSyntax)base.VisitForEachStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    public override SyntaxNode? VisitForEachVariableStatement(ForEachVariableStatementSyntax node) =>
        Loop((ForEachVariableStatementSyntax)base.VisitForEachVariableStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    // Jumps back: goto targets and switch sections (goto case) --------------------------------------------------------
    public override SyntaxNode? VisitLabeledStatement(LabeledStatementSyntax node) =>
        Loop((LabeledStatementSyntax)base.VisitLabeledStatement(node)!, static n => n.Statement, static (n, s) => n.WithStatement(s));

    public override SyntaxNode? VisitSwitchSection(SwitchSectionSyntax node)
    {
        var n = (SwitchSectionSyntax)base.VisitSwitchSection(node)!;
        return n.WithStatements(n.Statements.Insert(0, CheckStatement));
    }

    // Bodies: recursion ---------------------------------------------------------------------------------------------
    public override SyntaxNode? VisitMethodDeclaration(MethodDeclarationSyntax node)
    {
        bool returns = ReturnsValue(_model.GetDeclaredSymbol(node) as IMethodSymbol);
        return Body((MethodDeclarationSyntax)base.VisitMethodDeclaration(node)!, returns);
    }

    public override SyntaxNode? VisitConstructorDeclaration(ConstructorDeclarationSyntax node) =>
        Body((ConstructorDeclarationSyntax)base.VisitConstructorDeclaration(node)!, returns: false);

    public override SyntaxNode? VisitDestructorDeclaration(DestructorDeclarationSyntax node) =>
        Body((DestructorDeclarationSyntax)base.VisitDestructorDeclaration(node)!, returns: false);

    public override SyntaxNode? VisitOperatorDeclaration(OperatorDeclarationSyntax node) =>
        Body((OperatorDeclarationSyntax)base.VisitOperatorDeclaration(node)!, returns: true);

    public override SyntaxNode? VisitConversionOperatorDeclaration(ConversionOperatorDeclarationSyntax node) =>
        Body((ConversionOperatorDeclarationSyntax)base.VisitConversionOperatorDeclaration(node)!, returns: true);

    public override SyntaxNode? VisitLocalFunctionStatement(LocalFunctionStatementSyntax node)
    {
        bool returns = ReturnsValue(_model.GetDeclaredSymbol(node) as IMethodSymbol);
        var n = (LocalFunctionStatementSyntax)base.VisitLocalFunctionStatement(node)!;
        if (n.Body is { } body) return n.WithBody(Prepend(body));
        if (n.ExpressionBody is { } e) return n.WithExpressionBody(null).WithSemicolonToken(default).WithBody(Block(e.Expression, returns));
        return n;
    }

    public override SyntaxNode? VisitAccessorDeclaration(AccessorDeclarationSyntax node)
    {
        bool returns = node.IsKind(SyntaxKind.GetAccessorDeclaration);
        var n = (AccessorDeclarationSyntax)base.VisitAccessorDeclaration(node)!;
        if (n.Body is { } body) return n.WithBody(Prepend(body));
        if (n.ExpressionBody is { } e) return n.WithExpressionBody(null).WithSemicolonToken(default).WithBody(Block(e.Expression, returns));
        return n;
    }

    public override SyntaxNode? VisitPropertyDeclaration(PropertyDeclarationSyntax node)
    {
        var n = (PropertyDeclarationSyntax)base.VisitPropertyDeclaration(node)!;
        if (n.ExpressionBody is not { } e) return n;
        return n.WithExpressionBody(null).WithSemicolonToken(default)
            .WithAccessorList(AccessorList(SingletonList(AccessorDeclaration(SyntaxKind.GetAccessorDeclaration, Block(e.Expression, true)))));
    }

    public override SyntaxNode? VisitIndexerDeclaration(IndexerDeclarationSyntax node)
    {
        var n = (IndexerDeclarationSyntax)base.VisitIndexerDeclaration(node)!;
        if (n.ExpressionBody is not { } e) return n;
        return n.WithExpressionBody(null).WithSemicolonToken(default)
            .WithAccessorList(AccessorList(SingletonList(AccessorDeclaration(SyntaxKind.GetAccessorDeclaration, Block(e.Expression, true)))));
    }

    public override SyntaxNode? VisitParenthesizedLambdaExpression(ParenthesizedLambdaExpressionSyntax node)
    {
        bool returns = ReturnsValue(_model.GetSymbolInfo(node).Symbol as IMethodSymbol);
        var n = (ParenthesizedLambdaExpressionSyntax)base.VisitParenthesizedLambdaExpression(node)!;
        if (n.Block is { } body) return n.WithBlock(Prepend(body));
        return n.ExpressionBody is { } e ? n.WithExpressionBody(null).WithBlock(Block(e, returns)) : n;
    }

    public override SyntaxNode? VisitSimpleLambdaExpression(SimpleLambdaExpressionSyntax node)
    {
        bool returns = ReturnsValue(_model.GetSymbolInfo(node).Symbol as IMethodSymbol);
        var n = (SimpleLambdaExpressionSyntax)base.VisitSimpleLambdaExpression(node)!;
        if (n.Block is { } body) return n.WithBlock(Prepend(body));
        return n.ExpressionBody is { } e ? n.WithExpressionBody(null).WithBlock(Block(e, returns)) : n;
    }

    public override SyntaxNode? VisitAnonymousMethodExpression(AnonymousMethodExpressionSyntax node)
    {
        var n = (AnonymousMethodExpressionSyntax)base.VisitAnonymousMethodExpression(node)!;
        return n.WithBlock(Prepend(n.Block));
    }

    // Helpers ---------------------------------------------------------------------------------------------------------
    private static T Loop<T>(T node, Func<T, StatementSyntax> body, Func<T, StatementSyntax, T> withBody) => withBody(node, Guard(body(node)));

    /// <summary>A method-like body gets the check first; an expression body becomes a block that has it.</summary>
    private static T Body<T>(T n, bool returns) where T : BaseMethodDeclarationSyntax
    {
        if (n.Body is { } body) return (T)n.WithBody(Prepend(body));
        if (n.ExpressionBody is { } e) return (T)n.WithExpressionBody(null).WithSemicolonToken(default).WithBody(Block(e.Expression, returns));
        return n;
    }

    private static bool ReturnsValue(IMethodSymbol? method)
    {
        if (method is null || method.ReturnsVoid) return false;
        if (!method.IsAsync) return true;
        // async Task / ValueTask bodies return nothing; async Task<T> return a T.
        return method.ReturnType is INamedTypeSymbol { IsGenericType: true };
    }

    private static StatementSyntax Guard(StatementSyntax body) => body is BlockSyntax block
        ? block.WithStatements(block.Statements.Insert(0, CheckStatement))
        : SyntaxFactory.Block(CheckStatement, body.WithoutLeadingTrivia()).WithLeadingTrivia(body.GetLeadingTrivia()).WithTrailingTrivia(body.GetTrailingTrivia());

    private static BlockSyntax Prepend(BlockSyntax block) => block.WithStatements(block.Statements.Insert(0, EntryCheckStatement));

    private static BlockSyntax Block(ExpressionSyntax expression, bool returns)
    {
        ExpressionSyntax e = expression.WithoutTrivia();
        StatementSyntax body = e switch
        {
            ThrowExpressionSyntax t => ThrowStatement(Token(SyntaxKind.ThrowKeyword).WithTrailingTrivia(Space), t.Expression, Token(SyntaxKind.SemicolonToken)),
            _ when returns => ReturnStatement(Token(SyntaxKind.ReturnKeyword).WithTrailingTrivia(Space), e, Token(SyntaxKind.SemicolonToken)),
            _ => ExpressionStatement(e),
        };
        return SyntaxFactory.Block(EntryCheckStatement, body.WithLeadingTrivia(Space)).WithLeadingTrivia(expression.GetLeadingTrivia());
    }
}
