using NicScript.Driver;
using NicScript.Host.Capabilities;
using NicScript.Host.Manifests;
using NicScript.Host.Repl;
using NicScript.Host.Scripting;
using Serilog;
using NicScript.Host.Families.Dpu;
using NicScript.Host.Families.Mana;
using NicScript.Host.Families.Rdma;

namespace NicScript.Host.Tests.Scripting;

/// <summary>One surface, named once: what a script sees of a handle and what each member is called, the same for the
/// JavaScript engine, the REPL's completion in both languages and the C# checks.</summary>
public sealed class ScriptSurfaceTests : IDisposable
{
    private readonly Machine _machine = DefaultMachine.Create();
    private readonly StringWriter _output = new();
    private readonly ReplSession _session;

    public ScriptSurfaceTests() =>
        _session = new ReplSession(_machine, ReplSession.GrantEverything(_machine), ScriptLanguage.JavaScript, _output, new LoggerConfiguration().CreateLogger());

    public void Dispose()
    {
        _session.Dispose();
        _machine.Dispose();
    }

    private string Last(string input)
    {
        _output.GetStringBuilder().Clear();
        _session.Submit(input);
        return _output.ToString().Trim();
    }

    [Theory]
    [InlineData(typeof(DmaHandle), nameof(DmaHandle.Alloc), "alloc")]
    [InlineData(typeof(DmaBuffer), nameof(DmaBuffer.ReadU8), "readU8")]
    [InlineData(typeof(RdmaHandle), nameof(RdmaHandle.rdma_reg_mr), "rdma_reg_mr")]
    public void Name_JavaScriptLowersTheFirstLetter_CSharpKeepsTheDeclaredName(Type type, string member, string js)
    {
        System.Reflection.MemberInfo m = Assert.Single(type.GetMember(member));
        Assert.Equal(js, ScriptSurface.Name(m, ScriptLanguage.JavaScript));
        Assert.Equal(member, ScriptSurface.Name(m, ScriptLanguage.CSharp));
    }

    [Theory]
    [InlineData(typeof(DpuHandle), nameof(DpuHandle.NoThrow), true)]
    [InlineData(typeof(RdmaWc), nameof(RdmaWc.status), true)]
    [InlineData(typeof(NicScript.Driver.Devices.Rdma.RdmaError), nameof(NicScript.Driver.Devices.Rdma.RdmaError.Reason), false)] // a record's init
    [InlineData(typeof(NicScript.Driver.NetDevice.NicEmulator), nameof(NicScript.Driver.NetDevice.NicEmulator.Started), false)] // private set
    [InlineData(typeof(DmaBuffer), nameof(DmaBuffer.Iova), false)]                                                               // get only
    public void Settable_IsWhatACSharpScriptMayAssign(Type type, string property, bool settable) =>
        Assert.Equal(settable, ScriptSurface.Settable(type).Any(p => p.Name == property));

    [Fact]
    public void GlobalName_JavaScriptLowersTheWholeName()
    {
        System.Reflection.PropertyInfo vnode = Assert.Single(ScriptSurface.Globals, p => p.Name == nameof(VNodeGlobals.VNode));
        Assert.Equal("vnode", ScriptSurface.GlobalName(vnode, ScriptLanguage.JavaScript));
        Assert.Equal("VNode", ScriptSurface.GlobalName(vnode, ScriptLanguage.CSharp));
        Assert.Equal("object|undefined", Last("typeof vnode + '|' + typeof vNode"));
    }

    [Fact] // GdmaFields.Pairs is public but not [ScriptApi]; its indexer is [ScriptApi] but has no name
    public void UnmarkedMember_HiddenFromJavaScript_IsHiddenFromBothCompletions_AndRefusedInCSharp()
    {
        _session.Submit("const f = gdma.decode(dma.alloc(64), 0, 'gdma_cqe');");
        Assert.Equal(["f.get", "f.keys", "f.type"], _session.Complete("f."));
        string keys = Last("Reflect.ownKeys(f).join()"); // Jint lists the CLR names of what it exposes
        Assert.Contains("Keys", keys);
        Assert.DoesNotContain("Pairs", keys);

        _session.Submit(".lang cs");
        _session.Submit("var f = Gdma.Decode(Dma.Alloc(64), 0, \"gdma_cqe\");");
        Assert.Equal(["f.Equals", "f.Get", "f.GetHashCode", "f.Keys", "f.ToString", "f.Type"], _session.Complete("f."));
        Assert.Contains("NicScript.Host.Families.Mana.GdmaFields.Pairs is not part of the NicScript script API", Last("var p = f.Pairs;"));
        Assert.Empty(_session.Complete("f.GetT"));
        Assert.Contains("is not allowed in a V-Node script", Last("f.GetType();"));
    }

    [Fact] // the driver constants a global carries are the one difference: C# names their types instead (ScriptConstants)
    public void EveryGlobal_OffersTheSameMembers_InBothLanguages_UnderEachLanguagesName()
    {
        var js = ScriptSurface.Globals.ToDictionary(g => g.Name,
            g => Members(ScriptSurface.GlobalName(g, ScriptLanguage.JavaScript)).Except(ScriptSurface.ConstantNames(g.PropertyType)).ToArray());
        _session.Submit(".lang cs");
        foreach (System.Reflection.PropertyInfo g in ScriptSurface.Globals)
        {
            string[] cs = Members(g.Name).Except(["Equals", "GetHashCode", "ToString"]).ToArray(); // C#'s own, allowed on every NicScript type
            Assert.NotEmpty(cs);
            Assert.Equal(js[g.Name], cs.Select(ScriptSurface.JavaScriptName).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void DriverConstants_AreOfferedByBothCompletions_AndShown_UnderTheDriversNames()
    {
        Assert.Contains("net.SessionFlags", _session.Complete("net.Se"));
        Assert.Equal(["net.SessionFlags.LISTEN_TX", "net.SessionFlags.PRIMARY", "net.SessionFlags.REPORT_INVALID_RX"],
            _session.Complete("net.SessionFlags.").Where(IsConstant)); // beside Object.prototype's
        Assert.Equal(["rdma.RDMA_WC_SUCCESS"], _session.Complete("rdma.RDMA_WC_SU"));
        Assert.Equal(["RDMA_QPS_RESET", "RDMA_QPS_RTR", "RDMA_QPS_RTS"], _session.Complete("RDMA_QPS_R"));
        Assert.Equal("PRIMARY: 1\nLISTEN_TX: 2\nREPORT_INVALID_RX: 4", Last("net.SessionFlags"));
        Assert.Equal("1", Last("net.SessionFlags.PRIMARY = 7; net.SessionFlags.PRIMARY")); // frozen

        _session.Submit(".lang cs");
        Assert.Equal(["SessionFlags.LISTEN_TX", "SessionFlags.PRIMARY", "SessionFlags.REPORT_INVALID_RX"],
            _session.Complete("SessionFlags.").Where(IsConstant)); // beside Enum's
        Assert.Equal(["RDMA_WC_SUCCESS"], _session.Complete("RDMA_WC_SU"));
        Assert.Equal(["SessionFlags"], _session.Complete("Sessio"));
        Assert.Equal("PRIMARY, LISTEN_TX", Last("SessionFlags.PRIMARY | SessionFlags.LISTEN_TX"));
        Assert.Equal("3", Last("RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE"));
    }

    private static bool IsConstant(string completion) => completion.Split('.')[^1].All(c => char.IsAsciiLetterUpper(c) || c == '_');

    private string[] Members(string global) =>
        _session.Complete(global + ".").Select(n => n[(global.Length + 1)..]).Order(StringComparer.Ordinal).ToArray();
}
