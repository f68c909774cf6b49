using System.Diagnostics;
using System.Runtime.CompilerServices;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Runs a V-Node's C# script: the handles as PascalCase globals, the sandbox before, budget checks inside.</summary>
public sealed class CSharpEngine : IScriptEngine, IScriptLocator
{
    private readonly CompiledScript _script;
    private readonly ScriptBudget _budget;
    private readonly CancellationToken _stopping;

    private CSharpEngine(CompiledScript script, ScriptBudget budget, CancellationToken stopping)
    {
        _script = script;
        _budget = budget;
        _stopping = stopping;
        ScriptPath = DisplayPath.Of(script.FullPath);
    }

    public ScriptLanguage Language => ScriptLanguage.CSharp;

    public string ScriptPath { get; }

    /// <summary>True when the compiled script came from the on-disk cache (Roslyn was not needed).</summary>
    public bool FromCache => _script.FromCache;

    /// <summary>Loads the script from the cache, or compiles and caches it.</summary>
    /// <exception cref="ScriptCheckException">It does not compile or the sandbox refuses it; nothing of it ran.</exception>
    public static CSharpEngine Create(string fullPath, ScriptBudget budget, string? cacheDirectory, CancellationToken stopping)
    {
        var cache = new ScriptCache(cacheDirectory);
        string key = ScriptCache.Key(fullPath);
        if (File.Exists(cache.AssemblyPath(key)))
        {
            if (CompiledScript.TryLoad(cache.AssemblyPath(key), fullPath, fromCache: true) is { } cached)
                return new CSharpEngine(cached, budget, stopping);
            cache.Evict(key); // corrupted or truncated: compile again
        }
        return new CSharpEngine(CompileCold(fullPath, key, cache), budget, stopping);
    }

    /// <summary>Every problem of the script (compile errors and sandbox refusals), without running or caching it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static IReadOnlyList<ScriptProblem> Check(string fullPath) => CSharpScriptCompiler.Check(fullPath);

    // Kept out of Create's body so that the JIT meets Roslyn only on a cache miss.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CompiledScript CompileCold(string fullPath, string key, ScriptCache cache)
    {
        var result = CSharpScriptCompiler.Compile(fullPath, key, cache);
        return result.Script ?? throw new ScriptCheckException(result.Problems);
    }

    public ScriptOutcome Run(VNodeGlobals globals) => Guard(static s => s.Item1._script.Run(s.globals), (this, globals), topLevel: true);

    public ScriptOutcome Invoke<TState>(Action<TState> call, TState state, bool firstCall = false) =>
        Guard(static s => { s.call(s.state); return null; }, (call, state), topLevel: firstCall);

    private ScriptOutcome Guard<TState>(Func<TState, object?> body, TState state, bool topLevel)
    {
        using ScriptBudget.Scope scope = _budget.Enter(topLevel, _stopping);
        try
        {
            object? value = body(state);
            if (scope.Exceeded is { } over)
                return scope.Cancelled ? new ScriptOutcome.Cancelled() : new ScriptOutcome.Failed(At(scope), over);
            return new ScriptOutcome.Completed(value);
        }
        catch (ScriptBudgetExceededException e)
        {
            if (e.Cancelled) return new ScriptOutcome.Cancelled();
            // A statement mark found it: the statement before the mark ran over, and the exception's stack shows the mark.
            return scope.StoppedAt is null && scope.Statement is not null ? new ScriptOutcome.Failed(At(scope), e.Message) : Fail(e, e.Message);
        }
        catch (UserErrorException e)
        {
            return Fail(e, e.Message);
        }
        catch (InsufficientExecutionStackException e)
        {
            return Fail(e, ScriptBudget.DescribeStack);
        }
        catch (OutOfMemoryException e)
        {
            // One allocation larger than the heap limit lets (the host runs with one, see NicScript.Host.csproj): the script
            // asked for more than any budget; the allocation failed, so nothing was taken from the other V-Nodes.
            return Fail(e, _budget.DescribeOutOfMemory());
        }
        catch (Exception e) when (scope.Exceeded is { } over)
        {
            // Over budget, and another exception is what left: the budget's own was thrown where the runtime drops it (an
            // exception filter) or replaced by the script's `finally`. The budget is the reason.
            return scope.Cancelled ? new ScriptOutcome.Cancelled() : new ScriptOutcome.Failed(At(scope) is { Line: > 0 } at ? at : Fail(e, over).At, over);
        }
        catch (Exception e)
        {
            // An exception the script raised or caused (NullReference, DivideByZero, IndexOutOfRange, its
            // own throw): the script's failure. It runs on its V-Node's loop, so nothing but this V-Node is affected.
            return Fail(e, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Where a budget stop happened: the stack of the check that found it, else the top-level statement that was
    /// running (<see cref="ScriptBudget.Scope.Statement"/>), else just the file (a handler whose overrun no check saw).</summary>
    private SourceSpan At(ScriptBudget.Scope scope) =>
        (scope.StoppedAt is { } trace ? _script.Locate(trace) : null)
        ?? (scope.Statement is var (line, column) ? new SourceSpan(ScriptPath, line, column) : SourceSpan.None(ScriptPath));

    private ScriptOutcome.Failed Fail(Exception e, string reason) =>
        new(_script.Locate(new StackTrace(e, fNeedFileInfo: true)) ?? SourceSpan.None(ScriptPath), reason);

    /// <summary>The script line that is calling into the host now (for denials).</summary>
    public SourceSpan Locate() => _script.Locate(new StackTrace(fNeedFileInfo: true)) ?? SourceSpan.None(ScriptPath);

    public void Dispose()
    {
    }
}
