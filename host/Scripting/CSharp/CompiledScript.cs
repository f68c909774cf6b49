using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>A checked, budget-instrumented script assembly, loaded and ready to run. Knows no Roslyn.</summary>
/// <remarks>
/// Roslyn compiles a script to a class <c>Submission#0</c> with a static <c>&lt;Factory&gt;(object[] submissionArray)</c>
/// that runs the top level and returns its last expression; slot 0 of the array holds the globals object and slot 1
/// receives the submission itself.
/// </remarks>
public sealed class CompiledScript
{
    private readonly Func<object?[], Task<object?>> _factory;

    private CompiledScript(Assembly assembly, Func<object?[], Task<object?>> factory, string fullPath, bool fromCache)
    {
        Assembly = assembly;
        _factory = factory;
        FullPath = fullPath;
        FromCache = fromCache;
    }

    public Assembly Assembly { get; }

    public string FullPath { get; }

    /// <summary>True when it came from the on-disk cache without compiling.</summary>
    public bool FromCache { get; }

    /// <summary>Loads a compiled script; null when the file is not a usable script assembly or fails the IL check (the caller recompiles).</summary>
    /// <remarks>
    /// Design: every load is a new <see cref="AssemblyLoadContext"/>, so two V-Nodes running the same cached script
    /// never share its static fields. The bytes are checked by <see cref="ScriptAssemblyVerifier"/> before they are
    /// loaded, including a cache hit: the cache is a file anyone with the user's rights can replace.
    /// </remarks>
    public static CompiledScript? TryLoad(string assemblyPath, string fullPath, bool fromCache)
    {
        try
        {
            // From bytes, not the path: the runtime remembers a path that once failed to load, even after the file is replaced.
            byte[] bytes = File.ReadAllBytes(assemblyPath);
            if (ScriptAssemblyVerifier.Verify(bytes, DisplayPath.Of(fullPath)).Count > 0) return null;
            var context = new AssemblyLoadContext("csx:" + Path.GetFileName(fullPath)); // falls back to the host's for nicscript and the driver
            using var image = new MemoryStream(bytes);
            Assembly assembly = context.LoadFromStream(image);
            MethodInfo? factory = assembly.GetType("Submission#0")?.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.Static);
            if (factory is null) return null;
            var call = factory.CreateDelegate<Func<object?[], Task<object?>>>();
            return new CompiledScript(assembly, call, fullPath, fromCache);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or FileLoadException or FileNotFoundException or ArgumentException or TypeLoadException)
        {
            return null;
        }
    }

    /// <summary>Runs the top level; the budget scope is the caller's.</summary>
    public object? Run(VNodeGlobals globals)
    {
        var states = new object?[2];
        states[0] = globals;
        Task<object?> task = _factory(states);
        // The top level runs to its end here; when it awaits, its continuations come back to this loop and run meanwhile.
        return NicScript.Host.Runtime.VNodeSynchronizationContext.Wait(task);
    }

    /// <summary>The innermost frame of <paramref name="trace"/> that is in this script, as file:line:col.</summary>
    public SourceSpan? Locate(StackTrace trace)
    {
        foreach (StackFrame frame in trace.GetFrames())
        {
            if (frame.GetMethod()?.Module.Assembly != Assembly || frame.GetFileLineNumber() <= 0) continue;
            string file = frame.GetFileName() ?? FullPath;
            return new SourceSpan(DisplayPath.Of(file), frame.GetFileLineNumber(), Math.Max(1, frame.GetFileColumnNumber()));
        }
        return null;
    }
}
