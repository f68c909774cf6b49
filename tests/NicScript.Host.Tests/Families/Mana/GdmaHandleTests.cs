using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Families.Mana;

/// <summary>The <c>gdma</c> codec's encode from both languages: a JavaScript object and a C# <c>Dictionary&lt;string, ulong&gt;</c>
/// reach the handle as the same typed map, so they give the same bytes and the same errors.</summary>
public sealed class GdmaHandleTests
{
    /// <summary>Scripts that return the message of the error <c>encodeBytes</c> raises for <c>smc_proto_hdr</c> with the given fields.</summary>
    private static string JsError(string fields) =>
        $$"""function f() { try { gdma.encodeBytes("smc_proto_hdr", {{fields}}); return "no error"; } catch (e) { return e.message; } } f()""";

    private static string CsError(string fields) =>
        $$"""try { Gdma.EncodeBytes("smc_proto_hdr", new Dictionary<string, ulong> {{fields}}); return "no error"; } catch (Exception e) { return e.Message; }""";

    private static object? Result(string file, string script)
    {
        VNodeReport r = ScriptRun.Single(file, script);
        Assert.True(r.Status == VNodeStatus.Completed, r.Error);
        return r.Result;
    }

    [Theory]
    [InlineData("encode.js", """{ msg_type: 1, colour: 2 }""")]
    [InlineData("encode.csx", """{ ["msg_type"] = 1, ["colour"] = 2 }""")]
    public void EncodeBytes_UnknownField_IsAnErrorNamingTheTypeAndTheField(string file, string fields) =>
        Assert.Equal("gdma.encode: smc_proto_hdr has no field \"colour\"", Result(file, file.EndsWith(".js") ? JsError(fields) : CsError(fields)));

    [Theory]
    [InlineData("encode.js", """{ msg_type: 8 }""")]
    [InlineData("encode.csx", """{ ["msg_type"] = 8 }""")]
    public void EncodeBytes_ValueWiderThanItsField_IsAnErrorNamingTheWidth(string file, string fields) =>
        Assert.Equal("gdma.encode: smc_proto_hdr: msg_type: 8 does not fit 3 bits (max 7)", Result(file, file.EndsWith(".js") ? JsError(fields) : CsError(fields)));

    [Theory]
    [InlineData("{ msg_type: -1 }", "gdma.encode: msg_type = -1 is not a whole number in 0..9007199254740992")]
    [InlineData("{ msg_type: 1.5 }", "gdma.encode: msg_type = 1.5 is not a whole number in 0..9007199254740992")]
    [InlineData("{ msg_type: \"one\" }", "gdma.encode: msg_type must be a number, got one")]
    public void EncodeBytes_JavaScriptValueThatIsNoUnsignedInteger_IsAnErrorNamingTheField(string fields, string message) =>
        Assert.Equal(message, Result("encode.js", JsError(fields)));

    [Theory]
    [InlineData("5", "got 5")]
    [InlineData("\"msg_type\"", "got msg_type")]
    [InlineData("[1, 2]", "got a list")]
    public void EncodeBytes_JavaScriptFieldsThatAreNoObject_SayWhatIsExpected(string fields, string got) =>
        Assert.Equal($"gdma.encode: argument must be an object of names to whole numbers, {got}", Result("encode.js", JsError(fields)));

    [Fact]
    public void EncodeBytes_SameFieldsFromCSharpAndJavaScript_GiveTheSameBytes()
    {
        const string js = """
            const hex = b => { let h = ""; for (let i = 0; i < b.length; i++) h += (b[i] + 256).toString(16).slice(1); return h; };
            hex(gdma.encodeBytes("gdma_doorbell_entry.cq", { id: 3, tail_ptr: 512, arm: 1 })) + " " +
              hex(gdma.encodeBytes("gdma_sge", { address: 0x123456789a, mem_key: 7, size: 64 }))
            """;
        const string cs = """
            string Hex(byte[] b) => string.Concat(b.Select(x => x.ToString("x2")));
            return Hex(Gdma.EncodeBytes("gdma_doorbell_entry.cq", new Dictionary<string, ulong> { ["id"] = 3, ["tail_ptr"] = 512, ["arm"] = 1 })) + " "
                + Hex(Gdma.EncodeBytes("gdma_sge", new Dictionary<string, ulong> { ["address"] = 0x123456789a, ["mem_key"] = 7, ["size"] = 64 }));
            """;
        object? fromJs = Result("same.js", js);
        Assert.Equal("0300000000020080 9a78563412000000" + "07000000" + "40000000", fromJs);
        Assert.Equal(fromJs, Result("same.csx", cs));
    }

    [Fact]
    public void Encode_JavaScriptObjectIntoABuffer_DecodesToTheSameFields()
    {
        const string js = """
            const b = dma.alloc(128);
            gdma.encode(b, 8, "gdma_cqe", { "cqe_info.wq_num": 5, "cqe_info.is_sq": 1, "cqe_info.owner_bits": 2, "cqe_data[0]": null });
            const f = gdma.decode(b, 8, "gdma_cqe");
            [f.get("cqe_info.wq_num"), f.get("cqe_info.is_sq"), f.get("cqe_info.owner_bits"), f.get("cqe_data[0]")].join(",")
            """;
        Assert.Equal("5,1,2,0", Result("cqe.js", js));
    }
}
