
namespace NicScript.Host.Tests.Capabilities;

public sealed class PciEnumerationTests
{
    [Fact]
    public void List_ShowsEveryFunctionWithoutAGrant()
    {
        using var v = TestVNode.Create("lister", "  - CAP_LOG_WRITE");
        Assert.Equal([
            "0000:00:1e.0 1414:00b9 [020000] Microsoft Corporation MANA Physical Function",
            "0000:00:1e.1 1414:00ba [020000] Microsoft Corporation MANA Virtual Function",
            "0000:00:1f.0 1af4:1000 [020000] Red Hat, Inc. Virtio network device"], v.Handles.Pci.List());
        Assert.Empty(v.Audit.Denials);
    }
}
