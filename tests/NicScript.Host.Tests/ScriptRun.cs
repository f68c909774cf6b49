using NicScript.Driver;
using NicScript.Driver.Pci;
using NicScript.Host.Capabilities;
using NicScript.Host.Families.Dpu;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Tests;

/// <summary>Runs a script through the real runner (manifest, broker, engine, loop) and returns the report.</summary>
internal static class ScriptRun
{
    /// <summary>Writes <paramref name="script"/> as <paramref name="fileName"/> beside a manifest granting <paramref name="capabilities"/>, runs it.</summary>
    public static RunReport Run(string fileName, string script, string capabilities = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE",
        double share = 0.5, int memMb = 16, TimeSpan? duration = null, string? cacheDir = null, TempDir? inDir = null)
    {
        using var owned = inDir is null ? new TempDir() : null;
        TempDir dir = inDir ?? owned!;
        dir.Write(fileName, script);
        string manifest = dir.Write("vnode.yml", TestVNode.Manifest("script-test", capabilities, fileName, memMb, share));
        using var machine = DefaultMachine.Create();
        var log = new LoggerConfiguration().CreateLogger();
        using var audit = new AuditLog(log);
        var services = new RunServices();
        services.Add(new DpuRunAgent(machine, new NicScript.Driver.Devices.Dpu.DpuConfig(), Path.Combine(dir.Path, "dpu"), log));
        var runner = new VNodeRunner(log, new ScriptEngineFactory(cacheDir ?? Path.Combine(dir.Path, "cache"))) { Services = services };
        try
        {
            return runner.RunAsync("test", [ManifestLoader.LoadVNode(manifest)], machine, audit, duration ?? TimeSpan.FromSeconds(20), CancellationToken.None)
                .GetAwaiter().GetResult();
        }
        finally
        {
            services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public static VNodeReport Single(string fileName, string script, string capabilities = "  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE",
        double share = 0.5, int memMb = 16) => Run(fileName, script, capabilities, share, memMb).VNodes.Single();
}
