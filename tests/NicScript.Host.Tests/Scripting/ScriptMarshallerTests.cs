using System.Dynamic;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.NetDevice;
using NicScript.Driver.Wire;
using NicScript.Dpu.V1;
using NicScript.Host.Capabilities;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;

namespace NicScript.Host.Tests.Scripting;

/// <summary>The one marshaller: plain script data (as Jint hands it: string-keyed objects, arrays, doubles, names) into
/// the typed records and enums the handles take, and protobuf replies back into plain objects with the seed's names.</summary>
public sealed class ScriptMarshallerTests
{
    private static Dictionary<string, object?> Obj(params (string Key, object? Value)[] fields) => fields.ToDictionary(f => f.Key, f => f.Value);

    [Fact]
    public void FromScript_WrongTypedField_NamesTheFieldAndWhatWasExpected()
    {
        var e = Assert.Throws<ZxException>(() => ScriptMarshaller.FromScript(typeof(SessionInfo), Obj(("descriptorCount", "lots"))));
        Assert.Equal(ZxStatus.ZX_ERR_INVALID_ARGS, e.Status);
        Assert.Equal("OpenSession: descriptorCount must be a number, got lots", e.Message);
    }

    [Fact]
    public void FromScript_NumberOutOfTheFieldsRange_IsNotAWholeNumberInRange()
    {
        var e = Assert.Throws<ZxException>(() => ScriptMarshaller.FromScript(typeof(BufferDescriptor), Obj(("portId", 256.0))));
        Assert.Equal("DescriptorTable.set: portId = 256 is not a whole number in 0..255", e.Message);
    }

    [Fact]
    public void FromScript_UnknownField_ListsTheKnownOnesInTheCallsSpelling()
    {
        var e = Assert.Throws<ScriptCallException>(() => ScriptMarshaller.FromScript(typeof(TrafficSpec), Obj(("colour", "red"))));
        Assert.StartsWith("dpu wire configure: unknown field colour (known: size, dmac, smac, vlan, source, destination, protocol, source_port, destination_port, flows)", e.Message);
    }

    [Fact]
    public void FromScript_UnknownEnumName_ListsTheNames()
    {
        var e = Assert.Throws<ZxException>(() => ScriptMarshaller.FromScript(typeof(RxInjectOptions), Obj(("frameType", "TOKEN_RING"))));
        Assert.Equal("InjectRx: frameType 'TOKEN_RING' is not a FrameType (ETHERNET, IPV4, IPV6)", e.Message);
    }

    [Fact]
    public void FromScript_MissingRequiredField_IsNamed()
    {
        var e = Assert.Throws<ScriptCallException>(() => ScriptMarshaller.FromScript(typeof(RdmaError), Obj(("errno", "EIO"))));
        Assert.Equal("RdmaError: missing field reason", e.Message);
    }

    [Theory]
    [InlineData("IPV4")]
    [InlineData(2.0)]
    public void FromScript_EnumByNameOrByNumber_IsTheSameValue(object frameType)
    {
        var o = (RxInjectOptions)ScriptMarshaller.FromScript(typeof(RxInjectOptions), Obj(("frameType", frameType), ("flags", 4.0)))!;
        Assert.Equal((FrameType.IPV4, (RxFlags)4), (o.FrameType, o.Flags));
    }

    [Fact]
    public void FromScript_AnEnumArgumentByName_IsTheEnum() =>
        Assert.Equal(SessionFlags.LISTEN_TX, ScriptMarshaller.FromScript(typeof(SessionFlags), "LISTEN_TX"));

    [Fact]
    public void FromScript_NestedArrays_OfScalarsObjectsAndNames()
    {
        var o = (PortOptions)ScriptMarshaller.FromScript(typeof(PortOptions), Obj(
            ("txTypes", new object?[] { 2.0, Obj(("type", 3.0), ("supportedFlags", 1.0)) }),
            ("macModes", new object?[] { "PROMISCUOUS", 0.0 }),
            ("rxTypes", new object?[] { "IPV6" })))!;
        Assert.Equal([new FrameTypeSupport(FrameType.IPV4, NetConstants.FRAME_FEATURES_RAW, 0), new FrameTypeSupport(FrameType.IPV6, NetConstants.FRAME_FEATURES_RAW, 1)], o.TxTypes!);
        Assert.Equal([MacFilterMode.PROMISCUOUS, MacFilterMode.MULTICAST_FILTER], o.MacModes!);
        Assert.Equal([FrameType.IPV6], o.RxTypes!);
    }

    [Fact]
    public void FromScript_AWrongElementInANestedArray_NamesItsIndex()
    {
        var e = Assert.Throws<ZxException>(() => ScriptMarshaller.FromScript(typeof(PortOptions), Obj(("macModes", new object?[] { 0.0, "ALL" }))));
        Assert.StartsWith("AddPort: macModes[1] 'ALL' is not a MacFilterMode", e.Message);
    }

    [Fact]
    public void FromScript_SeedSnakeCaseAndCamelCaseNames_BothReachTheProperty()
    {
        var o = (RdmaConnectOptions)ScriptMarshaller.FromScript(typeof(RdmaConnectOptions), Obj(("path_mtu", 1024.0), ("sqPsn", 7.0)))!;
        Assert.Equal((1024, 7L), (o.PathMtu, o.SqPsn));
    }

    [Fact]
    public void FromScript_ProtobufRequest_TakesTheProtoFieldNames()
    {
        var r = (NewPortRequest)ScriptMarshaller.FromScript(typeof(NewPortRequest), Obj(("uuid", "a"), ("max_qpair", 4.0)))!;
        Assert.Equal(("a", 4u), (r.Uuid, r.MaxQpair));
    }

    [Fact]
    public void FromScript_PlainObjectToAStringKeyedMap_KeepsEveryKeyAndConvertsEveryValue()
    {
        var map = (IReadOnlyDictionary<string, ulong>)ScriptMarshaller.FromScript(typeof(IReadOnlyDictionary<string, ulong>),
            Obj(("hdr.req.msg_type", 3.0), ("no_such_field", 7.0), ("arm", null)))!;
        Assert.Equal(new Dictionary<string, ulong> { ["hdr.req.msg_type"] = 3, ["no_such_field"] = 7, ["arm"] = 0 }, map);
    }

    [Fact]
    public void FromScript_MapValueOutOfItsTypesRange_NamesTheKey()
    {
        var e = Assert.Throws<ScriptCallException>(() => ScriptMarshaller.FromScript(typeof(IReadOnlyDictionary<string, ulong>), Obj(("tail_ptr", -1.0))));
        Assert.Equal("gdma.encode: tail_ptr = -1 is not a whole number in 0..9007199254740992", e.Message);
    }

    [Fact]
    public void ToScript_ProtobufMessage_HasTheProtoFieldNamesAndNumbers()
    {
        IDictionary<string, object?> o = ScriptMarshaller.ToScript(new NewPortRequest { Uuid = "a", MaxQpair = 4, Mac = Google.Protobuf.ByteString.CopyFrom(2, 0, 0, 0, 0, 1) });
        Assert.Equal(["uuid", "max_qpair", "mac"], o.Keys);
        Assert.Equal(("a", 4.0, "020000000001"), (o["uuid"], o["max_qpair"], o["mac"]));
    }

    [Fact]
    public void JavaScript_AWrongTypedFieldInAPlainObject_IsTheCallsOneLineError()
    {
        VNodeReport r = ScriptRun.Single("bad.js", """dpu.wire("soc0").configure({ source_port: "eighty" })""", "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE");
        Assert.Equal(VNodeStatus.Failed, r.Status);
        Assert.Contains("dpu wire configure: source_port must be a number, got eighty", r.Error);
    }

}
