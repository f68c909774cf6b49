using NicScript.Driver.Pci;
using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Manifests;

public sealed class ManifestLoaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ManifestLoaderTests() => _dir.Write("net-bridge.js", "// script");

    public void Dispose() => _dir.Dispose();

    /// <summary>The seed's example manifest, entrypoint pointing at a script that exists.</summary>
    private const string Seed = """
        # vnode/net-bridge/vnode.yml
        vnode:
          name: "net-bridge"
          version: "0.1.0"
          maintainer: "aetheros-core-team@aetheros.org"
          mode: strict # System drivers should always be strict for security

        runtime:
          entrypoint: "net-bridge.js"
          required_mem_mb: 16 # Minimal memory for a driver V-Node
          max_cpu_share: 0.05 # Limited CPU share as it's primarily I/O bound

        capabilities:
          - NetworkAccess # General capability for network operations
          - CAP_HARDWARE_IO_PCI: "0x00:0x1F:0x0" # Access to specific PCI device (e.g., VirtIO-Net NIC)
          - CAP_IRQ_REGISTER: 11 # Register IRQ 11 for VirtIO-Net
          - CAP_DMA_ALLOC # Allocate DMA-compatible memory pages for network buffers
          - CAP_MEM_SHARE # For zero-copy data transfer with `svc://aethernet`
          - CAP_SYSCALL_RAW # Potentially for direct hardware register access (MMIO) if needed

        storage:
          mounts: [] # As a low-level driver, it typically doesn't need persistent storage

        observability:
          metrics: ["packets_rx", "packets_tx", "irq_latency_ns"]
        """;

    private VNodeManifest Load(string text) => ManifestLoader.LoadVNode(_dir.Write("vnode.yml", text));

    /// <summary>Loads text that must fail; returns the errors.</summary>
    private ManifestProblem[] Errors(string text)
    {
        var e = Assert.Throws<ManifestException>(() => Load(text));
        return e.Problems.Where(p => p.Severity == ProblemSeverity.Error).ToArray();
    }

    private static void AssertAt(ManifestProblem p, int line, int column, string fragment)
    {
        Assert.Equal((line, column), (p.At.Line, p.At.Column));
        Assert.Contains(fragment, p.Message);
        Assert.EndsWith("vnode.yml", p.At.File);
    }

    [Fact]
    public void Seed_LoadsInStrictModeWithEveryField()
    {
        VNodeManifest m = Load(Seed);
        Assert.Equal(("net-bridge", "0.1.0", "aetheros-core-team@aetheros.org", ManifestMode.Strict), (m.Name, m.Version, m.Maintainer, m.Mode));
        Assert.Equal((16, 0.05, ScriptLanguage.JavaScript), (m.Runtime.RequiredMemMb, m.Runtime.MaxCpuShare, m.Runtime.Language));
        Assert.Equal(_dir.File("net-bridge.js"), m.Runtime.EntrypointPath);
        Assert.Equal(["NetworkAccess", "CAP_HARDWARE_IO_PCI 0000:00:1f.0", "CAP_IRQ_REGISTER 11", "CAP_DMA_ALLOC", "CAP_MEM_SHARE", "CAP_SYSCALL_RAW"],
            m.Capabilities.Select(c => c.ToString()));
        Assert.Empty(m.Mounts);
        Assert.Equal(["packets_rx", "packets_tx", "irq_latency_ns"], m.Metrics.ToArray());
        Assert.Empty(m.Warnings);
        Assert.True(m.GrantsIrq(11));
        Assert.True(m.GrantsPci(new PciAddress(0, 0, 0x1f, 0)));
    }

    [Fact]
    public void Capability_RecordsItsPlace() =>
        Assert.Equal((16, 5), (Load(Seed).Capabilities[2].At.Line, Load(Seed).Capabilities[2].At.Column));

    [Theory]
    [InlineData("\"0x00:0x1F:0x0\"")]
    [InlineData("\"00:1f.0\"")]
    [InlineData("\"0000:00:1f.0\"")]
    public void PciAddress_AllThreeForms_NormaliseToOne(string form)
    {
        VNodeManifest m = Load(Seed.Replace("\"0x00:0x1F:0x0\"", form));
        Assert.Equal("0000:00:1f.0", m.Capabilities[1].Pci.ToString());
    }

    [Fact]
    public void YamlSyntaxError_PointsAtIt()
    {
        ManifestProblem p = Assert.Single(Errors(Seed.Replace("  mode: strict # System", "  mode: [strict # System")));
        Assert.Equal(6, p.At.Line);
        Assert.Contains("YAML syntax error", p.Message);
    }

    [Fact]
    public void DuplicateKey_PointsAtTheSecondAndNamesTheFirst()
    {
        ManifestProblem p = Assert.Single(Errors(Seed.Replace("  version: \"0.1.0\"", "  version: \"0.1.0\"\n  name: \"again\"")));
        AssertAt(p, 5, 3, "duplicate key 'name' (first at 3:3)");
    }

    [Fact]
    public void IrqAsString_IsATypeError() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("CAP_IRQ_REGISTER: 11", "CAP_IRQ_REGISTER: \"11\""))), 16, 23, "expected an integer for CAP_IRQ_REGISTER, got a string");

    [Fact]
    public void IrqOutOfRange_IsRefusedAtTheValue() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("CAP_IRQ_REGISTER: 11", "CAP_IRQ_REGISTER: 300"))), 16, 23, "IRQ 300 out of range 0-255");

    [Fact]
    public void IrqList_GivesOneGrantPerLine()
    {
        VNodeManifest m = Load(Seed.Replace("CAP_IRQ_REGISTER: 11", "CAP_IRQ_REGISTER: [11, 12]"));
        Assert.True(m.GrantsIrq(11) && m.GrantsIrq(12));
    }

    [Fact]
    public void MemAsString_IsATypeError() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("required_mem_mb: 16", "required_mem_mb: sixteen"))), 10, 20, "expected an integer for runtime.required_mem_mb, got a string");

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    public void MemNotPositive_IsRefused(string mem) =>
        AssertAt(Assert.Single(Errors(Seed.Replace("required_mem_mb: 16", "required_mem_mb: " + mem))), 10, 20, "must be a positive integer");

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    public void CpuShareOutsideZeroOne_IsRefused(string share) =>
        AssertAt(Assert.Single(Errors(Seed.Replace("max_cpu_share: 0.05", "max_cpu_share: " + share))), 11, 18, "must be in (0, 1]");

    [Fact]
    public void CpuShareOfOne_IsAccepted() => Assert.Equal(1.0, Load(Seed.Replace("max_cpu_share: 0.05", "max_cpu_share: 1")).Runtime.MaxCpuShare);

    [Fact]
    public void MissingRequiredKey_PointsAtItsParent() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("  version: \"0.1.0\"\n", ""))), 3, 3, "missing required key 'version' in vnode");

    [Fact]
    public void MissingSection_PointsAtTheDocument() =>
        AssertAt(Assert.Single(Errors(Seed[..Seed.IndexOf("runtime:", StringComparison.Ordinal)] + "capabilities: []\n")), 2, 1, "missing required key 'runtime'");

    [Fact]
    public void UnknownKey_StrictIsAnError() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("  mode: strict", "  mode: strict\n  colour: blue"))), 7, 3, "unknown key 'colour' in vnode");

    [Fact]
    public void UnknownKey_PermissiveIsAWarning()
    {
        VNodeManifest m = Load(Seed.Replace("  mode: strict", "  mode: permissive\n  colour: blue"));
        ManifestProblem w = Assert.Single(m.Warnings);
        Assert.Equal(ProblemSeverity.Warning, w.Severity);
        Assert.Contains("unknown key 'colour'", w.Message);
    }

    [Fact]
    public void UnknownCapability_StrictIsAnError() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("  - CAP_DMA_ALLOC #", "  - CAP_TIME_TRAVEL #"))), 17, 5, "unknown capability 'CAP_TIME_TRAVEL'");

    [Fact]
    public void UnknownCapability_PermissiveIsAWarningAndIgnored()
    {
        VNodeManifest m = Load(Seed.Replace("mode: strict", "mode: permissive").Replace("  - CAP_DMA_ALLOC #", "  - CAP_TIME_TRAVEL #"));
        Assert.Contains("unknown capability", Assert.Single(m.Warnings).Message);
        Assert.False(m.Grants(CapabilityKind.DmaAlloc));
        Assert.Equal(5, m.Capabilities.Length);
    }

    [Fact]
    public void CapabilityMapWithTwoKeys_IsRefused() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("  - CAP_IRQ_REGISTER: 11", "  - {CAP_IRQ_REGISTER: 11, CAP_DMA_ALLOC: 1}"))), 16, 5, "exactly one key");

    [Fact]
    public void BareCapabilityWithValue_IsRefused() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("  - CAP_DMA_ALLOC #", "  - CAP_DMA_ALLOC: yes #"))), 17, 20, "CAP_DMA_ALLOC takes no value");

    [Theory]
    [InlineData("\"0x00:0x20:0x0\"", "device 0x20 out of range")]
    [InlineData("\"00:1f.8\"", "function 0x8 out of range")]
    [InlineData("\"pci-one\"", "is not a PCI address")]
    public void PciAddressOutOfRange_IsRefusedWithReason(string value, string fragment) =>
        AssertAt(Assert.Single(Errors(Seed.Replace("\"0x00:0x1F:0x0\"", value))), 15, 26, fragment);

    [Fact]
    public void PciAddressAsInteger_IsATypeError() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("\"0x00:0x1F:0x0\"", "31"))), 15, 26, "expected a PCI address string");

    [Fact]
    public void DuplicateGrant_IsAWarning()
    {
        VNodeManifest m = Load(Seed.Replace("  - CAP_DMA_ALLOC #", "  - CAP_DMA_ALLOC\n  - CAP_DMA_ALLOC #"));
        Assert.Contains("duplicate grant CAP_DMA_ALLOC", Assert.Single(m.Warnings).Message);
    }

    [Fact]
    public void EntrypointMissing_IsRefused() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("\"net-bridge.js\"", "\"gone.js\""))), 9, 15, "runtime.entrypoint 'gone.js' not found");

    [Fact]
    public void EntrypointOfUnknownLanguage_IsRefused() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("\"net-bridge.js\"", "\"bin/net-bridge.vnode\""))), 9, 15, "unknown script language '.vnode'");

    [Fact]
    public void EntrypointCsx_IsCSharp()
    {
        _dir.Write("drv.csx", "1");
        Assert.Equal(ScriptLanguage.CSharp, Load(Seed.Replace("\"net-bridge.js\"", "\"drv.csx\"")).Runtime.Language);
    }

    [Fact]
    public void BadMode_IsRefusedAndFileStaysStrict()
    {
        ManifestProblem[] errors = Errors(Seed.Replace("mode: strict", "mode: lenient").Replace("  - CAP_DMA_ALLOC #", "  - CAP_TIME_TRAVEL #"));
        Assert.Contains(errors, p => p.Message.Contains("vnode.mode 'lenient' is not a mode"));
        Assert.Contains(errors, p => p.Message.Contains("unknown capability"));
    }

    [Fact]
    public void BadName_IsRefused() =>
        AssertAt(Assert.Single(Errors(Seed.Replace("\"net-bridge\"", "\"Net Bridge\""))), 3, 9, "vnode.name 'Net Bridge'");

    [Fact]
    public void BadMetricName_AndDuplicate_AreRefused()
    {
        ManifestProblem[] errors = Errors(Seed.Replace("[\"packets_rx\", \"packets_tx\", \"irq_latency_ns\"]", "[\"Packets\", \"rx\", \"rx\"]"));
        Assert.Equal(2, errors.Length);
        Assert.Contains("must match", errors[0].Message);
        Assert.Contains("declared twice", errors[1].Message);
    }

    [Fact]
    public void ManyErrors_AreAllListedInFileOrder()
    {
        ManifestProblem[] errors = Errors(Seed.Replace("required_mem_mb: 16", "required_mem_mb: 0").Replace("CAP_IRQ_REGISTER: 11", "CAP_IRQ_REGISTER: 999"));
        Assert.Equal([10, 16], errors.Select(e => e.At.Line));
    }

    [Fact]
    public void ExceptionMessage_IsOneLineWithFileLineColumn()
    {
        var e = Assert.Throws<ManifestException>(() => Load(Seed.Replace("CAP_IRQ_REGISTER: 11", "CAP_IRQ_REGISTER: 300")));
        Assert.Matches(@"vnode\.yml:16:23: error: CAP_IRQ_REGISTER: IRQ 300 out of range 0-255$", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingFile_IsAProblemNotACrash()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(_dir.File("nope.yml")));
        Assert.Contains("file not found", e.Message);
    }

    [Fact]
    public void EmptyFile_IsRefused() => Assert.Contains("empty", Assert.Single(Errors("")).Message);

    [Fact]
    public void Alias_IsRefused() =>
        Assert.Contains(Errors(Seed.Replace("mounts: []", "mounts: &m []").Replace("metrics: [\"packets_rx\", \"packets_tx\", \"irq_latency_ns\"]", "metrics: *m")), p => p.Message.Contains("aliases (*m) are not allowed"));
}
