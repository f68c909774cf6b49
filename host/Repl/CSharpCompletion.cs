using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Completion;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Host.Mef;
using Microsoft.CodeAnalysis.Text;
using NicScript.Host.Scripting;
using NicScript.Host.Scripting.CSharp;

namespace NicScript.Host.Repl;

/// <summary>C# Tab completion as an editor does it: Roslyn's <see cref="CompletionService"/> on the line being typed,
/// seen as the next submission after the ones the session ran.</summary>
/// <remarks>
/// Design: the layout CSharpRepl uses. Each submission that ran is a submission project (script parse options, the
/// session's references and imports, <see cref="VNodeGlobals"/> as host object) in an <see cref="AdhocWorkspace"/>,
/// referencing the project before it, so Roslyn chains their compilations as the scripting API does: <c>nic</c> from
/// <c>var nic = Net.Open(…)</c> three inputs back has its type. The line being completed is one more such project in a
/// copy of the solution (solutions are immutable), dropped after the question. Nothing is compiled to IL or run.
/// On a NicScript value Roslyn would offer every public member; only those the sandbox lets a script name are kept
/// (<see cref="CSharpSandbox.MayName"/>: the <see cref="ScriptSurface"/>, and <c>ToString</c>, <c>Equals</c>,
/// <c>GetHashCode</c>), so Tab never offers what JavaScript hides and the check would refuse.
/// </remarks>
internal sealed class CSharpCompletion
{
    private static readonly Lazy<MefHostServices> Host = new(() => MefHostServices.Create(MefHostServices.DefaultAssemblies));

    private readonly ImmutableArray<MetadataReference> _references;
    private readonly CSharpCompilationOptions _compilation;
    private readonly CSharpParseOptions _parse;
    private Solution _solution;
    private ProjectId? _last;
    private int _count;

    /// <param name="empty">An empty submission compiled with the session's options: its references and imports are the session's.</param>
    public CSharpCompletion(Compilation empty)
    {
        _references = [.. empty.References];
        _compilation = ((CSharpCompilationOptions)empty.Options).WithOutputKind(OutputKind.DynamicallyLinkedLibrary);
        _parse = (CSharpParseOptions)empty.SyntaxTrees.First().Options;
        _solution = new AdhocWorkspace(Host.Value).CurrentSolution;
    }

    /// <summary>Adds a submission that ran.</summary>
    public void Add(string code) => (_solution, _last) = WithSubmission(_solution, code);

    /// <summary>The names Roslyn offers at the end of <paramref name="line"/> that start with the word being typed there.</summary>
    public IReadOnlyList<string> Complete(string line)
    {
        var (solution, project) = WithSubmission(_solution, line);
        Document document = solution.GetProject(project)!.Documents.Single();
        CompletionService? service = CompletionService.GetService(document);
        if (service is null) return [];
        CompletionList list = service.GetCompletionsAsync(document, line.Length).GetAwaiter().GetResult();
        string typed = line[Math.Min(list.Span.Start, line.Length)..];
        int at = Math.Min(list.Span.Start, line.Length);
        var (model, receiver) = Receiver(document, at);
        return list.ItemsList.Select(i => i.DisplayText)
            .Where(n => n.StartsWith(typed, StringComparison.Ordinal) && n.All(c => char.IsLetterOrDigit(c) || c == '_'))
            .Where(n => receiver is null || CSharpSandbox.MayName(receiver, model!.LookupSymbols(at, receiver, n, includeReducedExtensionMethods: true)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The type of what is before the dot that ends at <paramref name="position"/> (<c>Dma</c> in <c>Dma.Al</c>), or null.</summary>
    private static (SemanticModel? Model, ITypeSymbol? Receiver) Receiver(Document document, int position)
    {
        if (position == 0 || document.GetSyntaxRootAsync().GetAwaiter().GetResult() is not { } root) return (null, null);
        if (root.FindToken(position - 1) is not { RawKind: (int)SyntaxKind.DotToken, Parent: MemberAccessExpressionSyntax access }) return (null, null);
        SemanticModel? model = document.GetSemanticModelAsync().GetAwaiter().GetResult();
        return (model, model?.GetTypeInfo(access.Expression).Type ?? model?.GetSymbolInfo(access.Expression).Symbol as ITypeSymbol);
    }

    private (Solution, ProjectId) WithSubmission(Solution solution, string code)
    {
        var id = ProjectId.CreateNewId();
        string name = "repl" + Interlocked.Increment(ref _count);
        var info = ProjectInfo.Create(id, VersionStamp.Create(), name, name, LanguageNames.CSharp,
            compilationOptions: _compilation, parseOptions: _parse, metadataReferences: _references,
            projectReferences: _last is null ? null : [new ProjectReference(_last)], isSubmission: true, hostObjectType: typeof(VNodeGlobals));
        solution = solution.AddProject(info).AddDocument(DocumentId.CreateNewId(id), name + ".csx", SourceText.From(code));
        return (solution, id);
    }
}
