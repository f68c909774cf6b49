using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.CodeAnalysis.Text;
using NicScript.Driver;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Compiles a <c>.csx</c> V-Node script: compile, sandbox-check, inject budget checks, emit optimized, cache.</summary>
/// <remarks>
/// The only class that touches Roslyn on the run path; <see cref="CSharpEngine"/> calls it on a cache miss only, so a
/// warm start never loads Microsoft.CodeAnalysis. Scripts compile with optimizations on: Roslyn scripting defaults to
/// Debug, which keeps the JIT from optimizing script code (measured ~7× per call).
/// </remarks>
internal static class CSharpScriptCompiler
{
    /// <summary>The default usings: a few of the framework's, and what names the driver constants the globals carry
    /// (<c>SessionFlags.PRIMARY</c>, <c>RDMA_WC_SUCCESS</c>: <see cref="ScriptSurface.CSharpImports"/>).</summary>
    private static readonly string[] Imports =
        ["System", "System.Linq", "System.Collections.Generic", "System.Text", "System.Buffers.Binary", .. ScriptSurface.CSharpImports];

    /// <summary>Framework assemblies referenced: enough for the allow-list, and for refused APIs to bind so the sandbox can name them.</summary>
    internal static readonly System.Collections.Frozen.FrozenSet<string> FrameworkAssemblies = System.Collections.Frozen.FrozenSet.ToFrozenSet(
    [
        "System.Runtime", "System.Private.CoreLib", "System.Console", "System.Linq", "System.Collections", "System.Collections.Immutable",
        "System.Text.RegularExpressions", "System.Runtime.Numerics", "System.Memory", "System.Diagnostics.Process", "System.Net.Primitives",
        "System.Net.Sockets", "System.Net.Http", "System.Threading", "System.Threading.Thread", "System.Threading.ThreadPool",
        "System.Runtime.InteropServices", "System.Reflection.Emit", "System.ComponentModel.Primitives", "System.Text.Encoding.Extensions", "System.Text.Json", "System.Linq.Expressions",
    ], StringComparer.Ordinal);

    /// <summary>Levels of syntax a script may nest (a node inside a node …). Real code stays far below; a chain
    /// <c>a + b + c …</c> is one level per operator, and Roslyn's binder and emitter recurse on each.</summary>
    public const int MaxSyntaxDepth = 1000;

    public sealed record Result(CompiledScript? Script, IReadOnlyList<ScriptProblem> Problems);

    /// <summary>Compiles, checks the source, emits what <c>run</c> would and checks its IL, storing nothing: the problems <c>nicscript check</c> lists.</summary>
    /// <remarks>Roslyn runs on a <see cref="ParserThread"/>: every script within the nesting limits completes.</remarks>
    public static IReadOnlyList<ScriptProblem> Check(string fullPath) => ParserThread.Run(() =>
    {
        var problems = new List<ScriptProblem>();
        Compilation? compilation = CompileChecked(fullPath, problems);
        if (compilation is null || problems.Any(p => p.Message.StartsWith("CS", StringComparison.Ordinal))) return problems;
        // The IL check is the guarantee; where the source check already named a line, its message is the better one.
        (byte[]? image, ScriptProblem? broken) = EmitInstrumented(fullPath, compilation);
        if (image is null)
        {
            if (problems.Count == 0) problems.Add(broken!);
            return problems;
        }
        foreach (ScriptProblem p in ScriptAssemblyVerifier.Verify(image, DisplayPath.Of(fullPath)))
            if (!problems.Any(q => q.At.File == p.At.File && q.At.Line == p.At.Line || p.At.Line == 0 && q.Message.Contains(p.Message, StringComparison.Ordinal))) problems.Add(p);
        return problems;
    });

    /// <summary>Compiles, checks, instruments and stores the script under <paramref name="key"/>, then loads it.</summary>
    public static Result Compile(string fullPath, string key, ScriptCache cache) => ParserThread.Run(() => CompileOnThisThread(fullPath, key, cache));

    private static Result CompileOnThisThread(string fullPath, string key, ScriptCache cache)
    {
        var problems = new List<ScriptProblem>();
        Compilation? checkedCompilation = CompileChecked(fullPath, problems);
        if (checkedCompilation is null || problems.Count > 0) return new Result(null, problems);

        (byte[]? image, ScriptProblem? broken) = EmitInstrumented(fullPath, checkedCompilation);
        if (image is null) return new Result(null, [broken!]);
        IReadOnlyList<ScriptProblem> refused = ScriptAssemblyVerifier.Verify(image, DisplayPath.Of(fullPath));
        if (refused.Count > 0) return new Result(null, refused); // never stored, never loaded
        cache.Store(key, image);
        CompiledScript script = CompiledScript.TryLoad(cache.AssemblyPath(key), fullPath, fromCache: false)
            ?? throw new InvalidOperationException("a freshly compiled script did not load: " + cache.AssemblyPath(key));
        return new Result(script, problems);
    }

    /// <summary>The assembly <c>run</c> loads: every tree instrumented with budget checks, optimized, its PDB embedded; or why it does not emit.</summary>
    private static (byte[]? Image, ScriptProblem? Broken) EmitInstrumented(string fullPath, Compilation checkedCompilation)
    {
        // Instrument every tree (the script and its #loaded siblings) against the checked compilation's semantic model, then
        // compile the instrumented texts; siblings are served from memory, since a #load tree cannot be replaced in place.
        var instrumentedText = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (SyntaxTree tree in checkedCompilation.SyntaxTrees)
            instrumentedText[tree.FilePath] = BudgetInjector.Rewrite(tree, checkedCompilation.GetSemanticModel(tree), markStatements: tree.FilePath == fullPath).ToString();
        Compilation instrumented = CreateScript(instrumentedText[fullPath], fullPath, instrumentedText).GetCompilation();
        if (EmitImage(instrumented, out Diagnostic? error) is { } image) return (image, null);
        // Emit finds a few errors the compile does not (a feature whose runtime is not referenced, like dynamic): still the script's.
        return (null, error is null ? new ScriptProblem(SourceSpan.None(DisplayPath.Of(fullPath)), "the script does not compile")
            : ToProblem(error, fullPath));
    }

    /// <summary>Emits <paramref name="compilation"/> with its PDB embedded (stack traces and IL refusals find their lines); null when it has errors.</summary>
    internal static byte[]? EmitImage(Compilation compilation, out Diagnostic? error)
    {
        using var pe = new MemoryStream();
        EmitResult emitted = compilation.Emit(pe, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        error = emitted.Diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        return emitted.Success ? pe.ToArray() : null;
    }

    private static Compilation? CompileChecked(string fullPath, List<ScriptProblem> problems)
    {
        string shown = DisplayPath.Of(fullPath);
        string code;
        try
        {
            code = InputFile.ReadText(fullPath, InputFile.MaxScriptBytes, "scripts");
        }
        catch (InputFileException e)
        {
            problems.Add(new ScriptProblem(SourceSpan.None(shown), e.Reason));
            return null;
        }
        if (TooDeepBrackets(code, shown) is { } deep)
        {
            problems.Add(deep);
            return null;
        }

        Compilation compilation = CreateScript(code, fullPath, overrides: null).GetCompilation();
        foreach (SyntaxTree tree in compilation.SyntaxTrees) // the script and its #loaded siblings: nothing binds a tree past the limit
        {
            if (TooDeep(tree, DisplayPath.Of(tree.FilePath.Length > 0 ? tree.FilePath : fullPath)) is not { } tooDeep) continue;
            problems.Add(tooDeep);
            return null;
        }

        foreach (Diagnostic d in compilation.GetDiagnostics())
            if (d.Severity == DiagnosticSeverity.Error) problems.Add(ToProblem(d, fullPath));
        foreach (SyntaxTree tree in compilation.SyntaxTrees)
            CSharpSandbox.Check(compilation, tree, DisplayPath.Of(tree.FilePath.Length > 0 ? tree.FilePath : fullPath), problems);
        problems.Sort((a, b) => (a.At.File, a.At.Line, a.At.Column).CompareTo((b.At.File, b.At.Line, b.At.Column)));
        return compilation;
    }

    /// <summary>The first bracket past <see cref="SourceNesting.MaxBrackets"/>, found before Roslyn sees the text.</summary>
    internal static ScriptProblem? TooDeepBrackets(string code, string displayFile) =>
        SourceNesting.FindTooDeep(code, ScriptLanguage.CSharp) is { } at
            ? new ScriptProblem(new SourceSpan(displayFile, at.Line, at.Column), $"nesting too deep: more than {SourceNesting.MaxBrackets} brackets inside each other")
            : null;

    /// <summary>The first node deeper than <see cref="MaxSyntaxDepth"/> in <paramref name="tree"/>, walked without recursion.</summary>
    internal static ScriptProblem? TooDeep(SyntaxTree tree, string displayFile)
    {
        var pending = new Stack<(SyntaxNode Node, int Depth)>();
        pending.Push((tree.GetRoot(), 1));
        while (pending.TryPop(out var item))
        {
            if (item.Depth > MaxSyntaxDepth)
            {
                LinePosition start = item.Node.GetLocation().GetLineSpan().StartLinePosition;
                return new ScriptProblem(new SourceSpan(displayFile, start.Line + 1, start.Character + 1),
                    $"nesting too deep: more than {MaxSyntaxDepth} levels of syntax (nested lambdas, generics, brackets or a long chain of operators such as a + b + c …)");
            }
            foreach (SyntaxNode child in item.Node.ChildNodes()) pending.Push((child, item.Depth + 1));
        }
        return null;
    }

    /// <summary>The options every V-Node script compiles with (references, imports, Release, no unsafe, sibling-only #load).</summary>
    internal static ScriptOptions Options(string fullPath, IReadOnlyDictionary<string, string>? overrides = null) => ScriptOptions.Default
            .WithReferences(References())
            .WithImports(Imports)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithAllowUnsafe(false)
            .WithEmitDebugInformation(true)
            .WithFilePath(fullPath)
            .WithFileEncoding(Encoding.UTF8)
            .WithSourceResolver(new SiblingSourceResolver(Path.GetDirectoryName(fullPath)!, overrides))
            .WithMetadataResolver(new RefusingMetadataResolver());

    /// <summary>Compile errors of <paramref name="tree"/> in <paramref name="compilation"/>, then its sandbox refusals.</summary>
    internal static List<ScriptProblem> Problems(Compilation compilation, SyntaxTree tree, string displayFile)
    {
        var problems = new List<ScriptProblem>();
        foreach (Diagnostic d in compilation.GetDiagnostics())
            if (d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree == tree) problems.Add(ToProblem(d, displayFile));
        if (problems.Count == 0) CSharpSandbox.Check(compilation, tree, displayFile, problems);
        return problems;
    }

    private static Script<object> CreateScript(string code, string fullPath, IReadOnlyDictionary<string, string>? overrides) =>
        CSharpScript.Create(code, Options(fullPath, overrides), typeof(VNodeGlobals));

    private static ScriptProblem ToProblem(Diagnostic d, string fullPath)
    {
        FileLinePositionSpan span = d.Location.GetMappedLineSpan();
        string file = span.Path is { Length: > 0 } p ? DisplayPath.Of(p) : DisplayPath.Of(fullPath);
        return d.Location.IsInSource
            ? new ScriptProblem(new SourceSpan(file, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1), $"{d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")
            : new ScriptProblem(SourceSpan.None(file), $"{d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private static IEnumerable<MetadataReference> References()
    {
        string frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        foreach (string name in FrameworkAssemblies)
        {
            string path = Path.Combine(frameworkDir, name + ".dll");
            if (File.Exists(path)) yield return MetadataReference.CreateFromFile(path);
        }
        yield return MetadataReference.CreateFromFile(typeof(VNodeGlobals).Assembly.Location);
        yield return MetadataReference.CreateFromFile(typeof(Machine).Assembly.Location);
        yield return MetadataReference.CreateFromFile(typeof(Google.Protobuf.ByteString).Assembly.Location); // the DPU messages' runtime
    }
}
