using Jint;
using Jint.Runtime;
using Jint.Runtime.Modules;

namespace NicScript.Host.Scripting.JavaScript;

/// <summary>Refuses every <c>import()</c> as a TypeError the script can catch (a rejected promise): a V-Node's script is one file and its handles.</summary>
/// <remarks>Jint's default loader throws a CLR <see cref="InvalidOperationException"/> instead, which no script can catch.</remarks>
internal sealed class NoModuleLoader(Func<Engine> engine) : IModuleLoader
{
    public ResolvedSpecifier Resolve(string? referencingModuleLocation, ModuleRequest moduleRequest) =>
        throw new JavaScriptException(engine().Intrinsics.TypeError.Construct(
            $"import('{moduleRequest.Specifier}'): modules are not available to V-Node scripts (one file and its handles)"));

    public Module LoadModule(Engine engine, ResolvedSpecifier resolved) =>
        throw new JavaScriptException(engine.Intrinsics.TypeError.Construct("modules are not available to V-Node scripts"));
}
