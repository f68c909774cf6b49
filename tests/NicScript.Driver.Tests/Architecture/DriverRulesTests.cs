namespace NicScript.Driver.Tests.Architecture;

/// <summary>The architecture checker itself: each rule reports a synthetic violation, so the architecture test can fail.</summary>
public sealed class DriverRulesTests
{
    private const string D = DriverRules.Root;

    private static IReadOnlyList<string> Check(params (string From, string To)[] edges) =>
        DriverRules.Check(edges.Select(e => new Dependency(e.From, e.To)));

    [Fact]
    public void Check_FamilyNamesAnotherFamily_ReportsFamilies()
    {
        Assert.Equal([$"{D}.Devices.Rdma.RdmaFabric -> {D}.Devices.VirtioNet.VirtioNetDevice (families)"],
            Check(($"{D}.Devices.Rdma.RdmaFabric", $"{D}.Devices.VirtioNet.VirtioNetDevice")));
    }

    [Fact]
    public void Check_LowerLayerNamesHigherOne_ReportsLayers()
    {
        Assert.Equal(
            [$"{D}.Devices.Virtio.VirtioPciDevice -> {D}.Devices.Mana.ManaDevice (layers)", $"{D}.Memory.DmaMemory -> {D}.Wire.Link (layers)", $"{D}.Queues.OwnerBitRing -> {D}.Devices.Virtio.VirtqLayout (layers)"],
            Check(($"{D}.Memory.DmaMemory", $"{D}.Wire.Link"), ($"{D}.Queues.OwnerBitRing", $"{D}.Devices.Virtio.VirtqLayout"), ($"{D}.Devices.Virtio.VirtioPciDevice", $"{D}.Devices.Mana.ManaDevice")));
    }

    [Fact]
    public void Check_NetDeviceOrFamilyNamesMachine_ReportsMachine()
    {
        Assert.Equal([$"{D}.Devices.Dpu.DpuDevice -> {D}.Machine (machine)", $"{D}.NetDevice.NetDeviceRegistry -> {D}.Machine (machine)"],
            Check(($"{D}.Devices.Dpu.DpuDevice", $"{D}.Machine"), ($"{D}.NetDevice.NetDeviceRegistry", $"{D}.Machine")));
    }

    [Fact]
    public void Check_DownwardWithinAFamilyOrToAMarker_ReportsNothing()
    {
        Assert.Empty(Check(
            ($"{D}.Machine", $"{D}.NetDevice.NetDeviceRegistry"), ($"{D}.NetDevice.VirtioUplink", $"{D}.Devices.VirtioNet.VirtioNetDevice"),
            ($"{D}.Devices.VirtioBlk.VirtioBlkDevice", $"{D}.Devices.Virtio.VirtioPciDevice"), ($"{D}.Devices.Virtio.VirtioPciDevice", $"{D}.Devices.IDeviceEvents"),
            ($"{D}.Devices.IDeviceEvents", $"{D}.Memory.DmaMemory"), ($"{D}.Devices.Mana.ManaDevice", $"{D}.Devices.Mana.Gdma.GdmaCqeView"),
            ($"{D}.Wire.Link", $"{D}.Time.IClock"), ($"{D}.Interrupts.MsixTable", $"{D}.Pci.PciFunction"), ($"{D}.Pci.PciFunction", $"{D}.Memory.DmaMemory"),
            ($"{D}.Memory.DmaMemory", $"{D}.ScriptApiAttribute"), ($"{D}.Memory.DmaMemory", "System.Collections.Generic.Dictionary<System.String,System.Int32>"),
            ($"{D}.Machine", $"{D}.Pci.SriovCapability")));
    }

    [Fact]
    public void Check_FamilyAndItsSubNamespaceNameEachOther_ReportsTheCycle()
    {
        Assert.Equal([$"{D}.Devices.Mana.Gdma.GdmaCqeView -> {D}.Devices.Mana.ManaDevice (cycle)", $"{D}.Devices.Mana.ManaDevice -> {D}.Devices.Mana.Gdma.GdmaCqeView (cycle)"],
            Check(($"{D}.Devices.Mana.ManaDevice", $"{D}.Devices.Mana.Gdma.GdmaCqeView"), ($"{D}.Devices.Mana.Gdma.GdmaCqeView", $"{D}.Devices.Mana.ManaDevice")));
    }

    [Fact]
    public void Check_VfioUserNamesAFamily_ReportsFamiliesAndAFamilyNamingItReportsLayers()
    {
        Assert.Equal([$"{D}.Devices.Mana.ManaDevice -> {D}.VfioUser.VfioUserServer (layers)", $"{D}.VfioUser.VfioUserSession -> {D}.Devices.VirtioNet.VirtioNetDevice (families)"],
            Check(($"{D}.VfioUser.VfioUserSession", $"{D}.Devices.VirtioNet.VirtioNetDevice"), ($"{D}.Devices.Mana.ManaDevice", $"{D}.VfioUser.VfioUserServer")));
    }

    [Fact]
    public void Check_VfioUserNamesTheDeviceContractAndMachineNamesIt_ReportsNothing()
    {
        Assert.Empty(Check(($"{D}.VfioUser.VfioUserSession", $"{D}.Devices.IDeviceModel"), ($"{D}.VfioUser.GuestMemory", $"{D}.Memory.IommuDomain"),
            ($"{D}.Machine", $"{D}.VfioUser.GuestMemory")));
    }

    [Fact]
    public void Check_NamespaceInNoLayer_ReportsUnplaced()
    {
        Assert.Equal([$"{D}.Gizmos.Gizmo -> {D}.Memory.DmaMemory (unplaced)"], Check(($"{D}.Gizmos.Gizmo", $"{D}.Memory.DmaMemory")));
    }

    [Theory]
    [InlineData("Jint.Native.JsValue", DependencyKind.Type, "script engine")]
    [InlineData("Acornima.Ast.Node", DependencyKind.Type, "script engine")]
    [InlineData("Microsoft.CodeAnalysis.Scripting.Script", DependencyKind.Type, "script engine")]
    [InlineData("System.Dynamic.ExpandoObject", DependencyKind.Type, "javascript shape")]
    [InlineData("System.Runtime.CompilerServices.DynamicAttribute", DependencyKind.Type, "javascript shape")]
    [InlineData("Microsoft.CSharp.RuntimeBinder.Binder", DependencyKind.Type, "javascript shape")]
    [InlineData("System.Collections.Generic.IDictionary<System.String,System.Object>", DependencyKind.Type, "javascript shape")]
    [InlineData("System.Collections.Generic.IReadOnlyDictionary<System.String,System.Object>", DependencyKind.Type, "javascript shape")]
    [InlineData("NicScript.Driver.Devices.Rdma.CapabilityGrant", DependencyKind.Type, "capability")]
    [InlineData("RdmaContext._granted", DependencyKind.Member, "capability")]
    [InlineData("RdmaContext.Denied(call)", DependencyKind.Member, "capability")]
    [InlineData("capability-denied", DependencyKind.Literal, "capability")]
    [InlineData(" has no CAP_RDMA", DependencyKind.Literal, "capability")]
    public void Check_ScriptEngineJavaScriptShapeOrCapability_Reported(string to, DependencyKind kind, string rule)
    {
        string shown = kind == DependencyKind.Literal ? $"\"{to}\"" : to;
        Assert.Equal([$"{D}.Devices.Rdma.RdmaContext -> {shown} ({rule})"], DriverRules.Check([new Dependency($"{D}.Devices.Rdma.RdmaContext", to, kind)]));
    }

    [Theory]
    [InlineData("NicScript.Driver.Pci.SriovCapability", DependencyKind.Type)]
    [InlineData("MsixTable.CapabilityId", DependencyKind.Member)]
    [InlineData("PciFunction.FindCapabilities", DependencyKind.Member)]
    [InlineData("capability 0x11 not found", DependencyKind.Literal)]
    public void Check_PciCapability_IsABusFactNotAScriptCapability(string to, DependencyKind kind)
    {
        Assert.Empty(DriverRules.Check([new Dependency($"{D}.Interrupts.MsixTable", to, kind)]));
    }

    [Fact]
    public void Read_NamesOnlyInsideMethodBodies_AreFoundAndReported()
    {
        const string sample = "NicScript.Driver.Tests.Architecture.BodyOnlyReferences";
        IReadOnlyList<Dependency> read = AssemblyDependencies.Read(typeof(DriverRulesTests).Assembly.Location, "NicScript.Driver.Tests.Architecture");
        IReadOnlyList<string> violations = DriverRules.Check(read.Where(d => d.From == sample));
        Assert.Contains($"{sample} -> System.Dynamic.ExpandoObject (javascript shape)", violations); // in a lambda: the closure folds into the sample
        Assert.Contains($"{sample} -> System.Collections.Generic.IDictionary<System.String,System.Object> (javascript shape)", violations); // a local
        Assert.Contains($"{sample} -> \"CAP_SAMPLE\" (capability)", violations); // a string
    }
}
