using System.Text.Json;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Tests.Capabilities;

public sealed class CapabilityBrokerTests
{
    [Fact]
    public void IrqRegister_LineNotGranted_IsDeniedNamingCapabilityAndVNode()
    {
        using var v = TestVNode.Create("net-bridge", "  - CAP_IRQ_REGISTER: 11");
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Irq.Register(5, _ => { }));
        Assert.Equal("CAP_IRQ_REGISTER 5 not granted to net-bridge", e.Message);
        CapabilityDenial d = Assert.Single(v.Audit.Denials);
        Assert.Equal(("net-bridge", "CAP_IRQ_REGISTER", "5"), (d.VNode, d.Capability, d.Requested));
    }

    [Fact]
    public void IrqRegister_GrantedLine_IsAcceptedAndKeepsVNodeAlive()
    {
        using var v = TestVNode.Create("net-bridge", "  - CAP_IRQ_REGISTER: 11");
        v.Handles.Irq.Register(11, _ => { });
        Assert.Equal([11], v.Handles.Irq.Registered);
        Assert.Equal(1, v.Context.Pending);
        Assert.Empty(v.Audit.Denials);
    }

    [Fact]
    public void PciOpen_AddressNotGranted_IsDenied()
    {
        using var v = TestVNode.Create("drv", "  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"");
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Pci.Open("00:02.0"));
        Assert.Equal("CAP_HARDWARE_IO_PCI 0000:00:02.0 not granted to drv", e.Message);
    }

    [Theory]
    [InlineData("0x00:0x1F:0x0")]
    [InlineData("00:1f.0")]
    [InlineData("0000:00:1F.0")]
    public void PciOpen_GrantedInAnyForm_ReadsTheFunctionsConfigSpace(string form)
    {
        using var v = TestVNode.Create("drv", "  - CAP_HARDWARE_IO_PCI: \"0x00:0x1F:0x0\"");
        PciDevice dev = v.Handles.Pci.Open(form);
        Assert.Equal(0x1af4, dev.VendorId);
        Assert.Equal(0x1000, dev.ReadConfig16(2));
    }

    [Fact]
    public void PciOpen_GrantedButAbsent_FailsWithoutDenial()
    {
        using var v = TestVNode.Create("drv", "  - CAP_HARDWARE_IO_PCI: \"00:03.0\"");
        var e = Assert.Throws<ScriptCallException>(() => v.Handles.Pci.Open("00:03.0"));
        Assert.Contains("no PCI function at 0000:00:03.0", e.Message);
        Assert.Empty(v.Audit.Denials);
    }

    [Fact]
    public void PciDevice_AfterHotRemove_FailsClearly()
    {
        using var v = TestVNode.Create("drv", "  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"");
        PciDevice dev = v.Handles.Pci.Open("00:1f.0");
        v.Machine.Pci.TryRemove(Driver.Pci.PciAddress.Parse("00:1f.0"), out _);
        var e = Assert.Throws<ScriptCallException>(() => dev.VendorId);
        Assert.Contains("removed", e.Message);
    }

    [Fact]
    public void DmaAlloc_WithoutGrant_IsDenied()
    {
        using var v = TestVNode.Create("drv", "  - CAP_LOG_WRITE");
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Dma.Alloc(64));
        Assert.Equal("CAP_DMA_ALLOC not granted to drv", e.Message);
    }

    [Fact]
    public void DmaAlloc_BeyondRequiredMem_FailsAndHoldsNothingMore()
    {
        using var v = TestVNode.Create("drv", "  - CAP_DMA_ALLOC", memMb: 1);
        v.Handles.Dma.Alloc(1 << 19);
        var e = Assert.Throws<ScriptCallException>(() => v.Handles.Dma.Alloc((1 << 19) + 1));
        Assert.Contains("required_mem_mb 1", e.Message);
        Assert.Equal(1 << 19, v.Handles.Dma.UsedBytes);
    }

    [Fact]
    public void DmaBuffer_ReadWriteRoundTrip_LittleEndianAndText()
    {
        using var v = TestVNode.Create("drv", "  - CAP_DMA_ALLOC");
        DmaBuffer b = v.Handles.Dma.Alloc(64);
        b.WriteU32(4, 0xA1B2C3D4);
        Assert.Equal("d4c3b2a1", b.Hex(4, 4));
        Assert.Equal(5, b.WriteText(10, "héllo".Normalize()[..4]));
        Assert.Equal("héll", b.ReadText(10, 5));
        var e = Assert.Throws<ScriptCallException>(() => b.Read(60, 8));
        Assert.Contains("outside its 64 bytes", e.Message);
    }

    [Fact]
    public void LogWrite_WithoutGrant_IsDenied()
    {
        using var v = TestVNode.Create("quiet", "  - CAP_DMA_ALLOC");
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Log.Info("hi"));
        Assert.Equal("CAP_LOG_WRITE not granted to quiet", e.Message);
    }

    [Fact]
    public void Metrics_Undeclared_IsDeniedAndAudited()
    {
        using var v = TestVNode.Create("m", "  - CAP_LOG_WRITE");
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Metrics.Inc("bogus"));
        Assert.Contains("metric 'bogus' is not declared", e.Message);
        Assert.Single(v.Audit.Denials);
    }

    [Fact]
    public void Metrics_KindFixedByFirstUse_OtherKindRefused()
    {
        using var v = TestVNode.Create("m", "  - CAP_LOG_WRITE");
        v.Handles.Metrics.Inc("packets_rx", 3);
        v.Handles.Metrics.Inc("packets_rx");
        Assert.Equal(4, v.Handles.Metrics.Get("packets_rx"));
        Assert.Throws<ScriptCallException>(() => v.Handles.Metrics.Set("packets_rx", 1));
        v.Handles.Metrics.Observe("latency_ns", 700);
        v.Handles.Metrics.Observe("latency_ns", 3000);
        Assert.True(v.Context.Metrics.TryGet("latency_ns", out Metric m));
        Assert.Equal(2, m.Count);
        Assert.Equal(1024, m.Quantile(0.5));
        Assert.Equal(4096, m.Quantile(0.99));
    }

    [Fact]
    public void ShareTransfer_GiverLosesAccess_DenialAudited()
    {
        using var v = TestVNode.Create("net-bridge", "  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE");
        VNodeContext peer = v.AdmitPeer("aethernet", "  - CAP_MEM_SHARE");
        DmaBuffer mine = v.Handles.Dma.Alloc(64);
        mine.WriteText(0, "frame");
        DmaBuffer theirs = v.Handles.Share.Transfer(mine, "aethernet");
        Assert.Equal("frame", theirs.ReadText(0, 5));
        Assert.False(mine.Accessible);
        var e = Assert.Throws<CapabilityDeniedException>(() => mine.Read(0, 5));
        Assert.Contains("not owned by net-bridge (transferred to aethernet)", e.Message);
        Assert.Throws<CapabilityDeniedException>(() => v.Handles.Share.Transfer(mine, "aethernet")); // a second transfer: not ours
        Assert.Same(peer.DmaOwner, theirs.Region.Owner);
    }

    [Fact]
    public void ShareLend_ReadOnlyForBorrower_UntilRevoke()
    {
        using var v = TestVNode.Create("a", "  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE");
        v.AdmitPeer("b", "  - CAP_LOG_WRITE");
        DmaBuffer mine = v.Handles.Dma.Alloc(16);
        DmaBuffer lent = v.Handles.Share.Lend(mine, "b");
        Assert.Equal(0, lent.ReadU8(0));
        Assert.Throws<CapabilityDeniedException>(() => lent.WriteU8(0, 1));
        v.Handles.Share.Revoke(mine, "b");
        Assert.False(lent.Accessible);
        mine.WriteU8(0, 7); // the owner never lost write access
    }

    [Fact]
    public void ShareTransfer_WithoutGrant_IsDenied()
    {
        using var v = TestVNode.Create("a", "  - CAP_DMA_ALLOC");
        v.AdmitPeer("b", "  - CAP_LOG_WRITE");
        DmaBuffer mine = v.Handles.Dma.Alloc(16);
        var e = Assert.Throws<CapabilityDeniedException>(() => v.Handles.Share.Transfer(mine, "b"));
        Assert.Equal("CAP_MEM_SHARE not granted to a", e.Message);
        Assert.True(mine.Accessible);
    }

    [Fact]
    public void Release_ReclaimsEveryBufferTheVNodeHeld()
    {
        using var v = TestVNode.Create("a", "  - CAP_DMA_ALLOC");
        v.Handles.Dma.Alloc(100);
        v.Handles.Dma.Alloc(5000);
        Assert.Equal(2, v.Broker.Release(v.Context));
        Assert.Empty(v.Machine.Dma.Regions);
    }

    [Fact]
    public void AuditFile_DenialsAreJsonLines()
    {
        using var dir = new TempDir();
        string path = dir.File("audit.jsonl");
        using (var v = TestVNode.Create("net-bridge", "  - CAP_IRQ_REGISTER: 11", auditPath: path))
        {
            Assert.Throws<CapabilityDeniedException>(() => v.Handles.Irq.Register(5, _ => { }));
            Assert.Throws<CapabilityDeniedException>(() => v.Handles.Dma.Alloc(1));
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        using JsonDocument first = JsonDocument.Parse(lines[0]);
        Assert.Equal("net-bridge", first.RootElement.GetProperty("vnode").GetString());
        Assert.Equal("CAP_IRQ_REGISTER", first.RootElement.GetProperty("capability").GetString());
        Assert.Equal("5", first.RootElement.GetProperty("requested").GetString());
    }

    [Fact]
    public void VNodeInfo_ListsGrantsInManifestForm()
    {
        using var v = TestVNode.Create("net-bridge", "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"0x00:0x1F:0x0\"\n  - CAP_IRQ_REGISTER: 11");
        Assert.Equal(["NetworkAccess", "CAP_HARDWARE_IO_PCI 0000:00:1f.0", "CAP_IRQ_REGISTER 11"], v.Handles.VNode.Grants);
        Assert.True(v.Handles.VNode.Has("NetworkAccess"));
        Assert.False(v.Handles.VNode.Has("CAP_DMA_ALLOC"));
    }
}
