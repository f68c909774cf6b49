using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.NetDevice;
using NicScript.Host.Families;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;

namespace NicScript.Host.Tests.Families;

/// <summary>The driver constants the globals carry reach scripts from the driver's types alone, every one of them, under
/// the driver's names: <c>net.SessionFlags.PRIMARY</c> and <c>rdma.RDMA_WC_SUCCESS</c> (and bare) in JavaScript,
/// <c>SessionFlags.PRIMARY</c> and bare <c>RDMA_WC_SUCCESS</c> in C#.</summary>
public sealed class ScriptConstantsTests
{
    private const string Grants = "  - CAP_LOG_WRITE";

    /// <summary>Every declared constant as <c>NAME=number</c>, one declaration after another: what a script should read.</summary>
    private static string Expected() => string.Join(";", DeviceFamilies.Constants.Select(c =>
        string.Join(",", c.Members.Select(f => $"{f.Name}={ScriptConstants.Number(f).ToString(System.Globalization.CultureInfo.InvariantCulture)}"))));

    [Fact]
    public void JavaScript_ReachesEveryConstant_OnItsGlobal_AndSpreadOnesBare()
    {
        var reads = new List<string>();
        var bare = new List<string>();
        foreach (ScriptConstants c in DeviceFamilies.Constants)
        {
            string on = c.Spread ? c.Global.ToLowerInvariant() : $"{c.Global.ToLowerInvariant()}.{c.Name}";
            reads.Add($"[{string.Join(", ", c.Members.Select(f => $"'{f.Name}=' + {on}.{f.Name}"))}].join()");
            if (c.Spread) bare.AddRange(c.Members.Select(f => $"{f.Name} === {on}.{f.Name}"));
        }
        string script = $"if ([{string.Join(", ", bare)}].includes(false)) vnode.fail('a bare constant differs from its rdma one');\n" +
            $"[{string.Join(",\n", reads)}].join(';')";

        VNodeReport report = ScriptRun.Single("constants.js", script, Grants);

        Assert.True(report.Status == VNodeStatus.Completed, report.Error);
        Assert.Equal(Expected(), report.Result);
    }

    [Fact]
    public void CSharp_NamesEveryConstant_ThroughTheDriversType_ImportedByDefault()
    {
        IEnumerable<string> reads = DeviceFamilies.Constants.Select(c => "string.Join(\",\", new[] { " +
            string.Join(", ", c.Members.Select(f => $"\"{f.Name}=\" + (double){(c.Spread ? "" : c.Name + ".")}{f.Name}")) + " })");
        string script = $"return string.Join(\";\", new[] {{ {string.Join(",\n", reads)} }});";

        VNodeReport report = ScriptRun.Single("constants.csx", script, Grants);

        Assert.True(report.Status == VNodeStatus.Completed, report.Error);
        Assert.Equal(Expected(), report.Result);
    }

    [Fact]
    public void TheReferencesConstants_AreDeclared_OnNetAndOnRdma()
    {
        Assert.Equal(["FrameType", "SessionFlags", "RxFlags", "TxFlags", "TxReturnFlags", "StatusFlags", "MacFilterMode", "DeviceClass", "InfoType"],
            DeviceFamilies.Constants.Where(c => c.Global == "Net" && !c.Spread).Select(c => c.Name)); // reference/netdevice.md §8.1
        Assert.Equal([typeof(RdmaAccess), typeof(RdmaWcStatus), typeof(RdmaWcOpcode), typeof(RdmaQpState)],
            DeviceFamilies.Constants.Where(c => c.Global == "Rdma" && c.Spread).Select(c => c.Type)); // reference/rdma.md §2.1
        Assert.All(DeviceFamilies.Constants.Where(c => c.Spread).SelectMany(c => c.Members), f => Assert.StartsWith("RDMA_", f.Name));
        Assert.All(DeviceFamilies.Constants, c => Assert.Contains(ScriptSurface.Globals, g => g.Name == c.Global)); // each on a real global
    }

    [Fact]
    public void Members_AreTheTypesPublicConstants_InDeclarationOrder_AndJavaScriptNumbersStayUnsigned()
    {
        ScriptConstants rx = ScriptConstants.Grouped("Net", typeof(RxFlags));
        Assert.Equal(Enum.GetNames<RxFlags>(), rx.Members.Select(f => f.Name));
        Assert.Equal(2147483648d, ScriptConstants.Number(rx.Members.Single(f => f.Name == nameof(RxFlags.RX_ECHOED_TX))));
        Assert.DoesNotContain(ScriptConstants.Bare("Rdma", typeof(RdmaAccess)).Members, f => f.Name == "All"); // internal: the driver's, not the seed's
    }

    [Theory]
    [InlineData(typeof(RdmaConnectOptions))] // a class with instance members
    [InlineData(typeof(DeviceInfo))]          // a record
    public void ATypeThatIsNotAnEnumOrAStaticClassOfConstants_IsRefusedWhenDeclared(Type type)
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptConstants.Grouped("Net", type));
        Assert.Contains(type.Name, e.Message);
    }

    [Fact]
    public void AStaticClassWithoutPublicConstants_IsRefusedWhenDeclared()
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptConstants.Bare("Net", typeof(NoConstants)));
        Assert.Contains("declares no public constant", e.Message);
    }

    /// <summary>A static class whose one public field is not a constant.</summary>
    private static class NoConstants
    {
        public static readonly int NotAConstant = 1;
    }
}
