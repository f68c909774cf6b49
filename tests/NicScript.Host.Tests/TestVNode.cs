using NicScript.Driver;
using NicScript.Driver.Pci;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using Serilog;

namespace NicScript.Host.Tests;

/// <summary>A V-Node made from manifest text in a temp folder, admitted on its own machine, with its handles.</summary>
internal sealed class TestVNode : IDisposable
{
    public const string VirtioNetAddress = "0000:00:1f.0";

    private TestVNode(TempDir dir, Machine machine, AuditLog audit, CapabilityBroker broker, VNodeContext ctx)
    {
        Dir = dir;
        Machine = machine;
        Audit = audit;
        Broker = broker;
        Context = ctx;
        Handles = broker.Handles(ctx);
    }

    public TempDir Dir { get; }
    public Machine Machine { get; }
    public AuditLog Audit { get; }
    public CapabilityBroker Broker { get; }
    public VNodeContext Context { get; }
    public VNodeHandles Handles { get; }

    /// <summary>A manifest named <paramref name="name"/> granting <paramref name="capabilities"/> (YAML list items).</summary>
    public static string Manifest(string name, string capabilities, string script = "main.js", int memMb = 4, double share = 0.5, string metrics = "[\"packets_rx\", \"latency_ns\"]") => $$"""
        vnode:
          name: "{{name}}"
          version: "0.1.0"
          mode: strict
        runtime:
          entrypoint: "{{script}}"
          required_mem_mb: {{memMb}}
          max_cpu_share: {{share}}
        capabilities:
        {{capabilities}}
        observability:
          metrics: {{metrics}}
        """;

    public static TestVNode Create(string name, string capabilities, string? auditPath = null, int memMb = 4)
    {
        var dir = new TempDir();
        dir.Write("main.js", "");
        string path = dir.Write(name + ".yml", Manifest(name, capabilities, memMb: memMb));
        var machine = DefaultMachine.Create();
        var audit = new AuditLog(new LoggerConfiguration().CreateLogger(), auditPath);
        var broker = new CapabilityBroker(machine, audit, new LoggerConfiguration().CreateLogger());
        return new TestVNode(dir, machine, audit, broker, broker.Admit(ManifestLoader.LoadVNode(path)));
    }

    /// <summary>Another V-Node on the same machine and broker.</summary>
    public VNodeContext AdmitPeer(string name, string capabilities)
    {
        string path = Dir.Write(name + ".yml", Manifest(name, capabilities));
        return Broker.Admit(ManifestLoader.LoadVNode(path));
    }

    public void Dispose()
    {
        Audit.Dispose();
        Machine.Dispose();
        Dir.Dispose();
    }
}
