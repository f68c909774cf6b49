using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>Checklist DPU-45…49 (classifier), DPU-60 (bond options), DPU-72, 73 (protocol), DPU-62, 64…68 (persistence, concurrency).</summary>
public sealed class ClassifierProtocolTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync()
    {
        _f = await StartAsync();
        for (uint v = 0; v < 3; v++) await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"p{v}", MaxQpair = 2 });
    }

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private static ClassifierWriteRequest Rule(int key, MaskRuleKey k, int vid, int qid, uint? meter = null)
    {
        var action = new RuleAction { Vid = vid, Qid = qid };
        if (meter is { } m) action.MeterId = m;
        return new ClassifierWriteRequest { KeyIndex = key, MaskRuleKey = k, Action = action };
    }

    private static MaskRuleKey Dip(uint ip, uint mask) => new() { IpType = "ipv4", Dip = { ip }, DipMask = { mask } };

    [Fact]
    public async Task DPU_45_non_canonical_or_incomplete_writes_are_invalid_and_change_nothing()
    {
        var bad = new List<ClassifierWriteRequest>
        {
            new() { MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 0, Qid = 0 } },
            Rule(-1, new MaskRuleKey(), 0, 0),
            new() { KeyIndex = 1, Action = new RuleAction { Vid = 0, Qid = 0 } },
            new() { KeyIndex = 1, MaskRuleKey = new MaskRuleKey() },
            new() { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 0 } },
            new() { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Qid = 0 } },
            Rule(1, new MaskRuleKey { Dmac = ByteString.CopyFrom(1, 2, 3, 4, 5) }, 0, 0),
            Rule(1, new MaskRuleKey { Dmac = ByteString.CopyFrom(2, 0, 0, 0, 0, 0), DmacMask = 0x1000000000000 }, 0, 0),
            Rule(1, new MaskRuleKey { Dmac = ByteString.CopyFrom(2, 0, 0, 0, 0, 0), DmacMask = -1 }, 0, 0),
            Rule(1, Dip(0x0A000007, 0xFFFFFF00), 0, 0),
            Rule(1, new MaskRuleKey { IpType = "IPv4" }, 0, 0),
            Rule(1, new MaskRuleKey { IpType = "ipv5" }, 0, 0),
            Rule(1, new MaskRuleKey { IpType = "ipv4", Dip = { 1, 2 }, DipMask = { 0xFFFFFFFF, 0xFFFFFFFF } }, 0, 0),
            Rule(1, new MaskRuleKey { Dip = { 0x0A000007 }, DipMask = { 0xFFFFFFFF } }, 0, 0),
            Rule(1, new MaskRuleKey { IpType = "ipv4", Dl4Port = 443, Dl4PortMask = 0xFFFF }, 0, 0),
            Rule(1, new MaskRuleKey { IpType = "ipv4", Ipprotocol = 6, IpprotocolMask = 0xFF, Dl4Port = 70000, Dl4PortMask = 0xFFFF }, 0, 0),
            Rule(1, new MaskRuleKey { Vlan = 4096, VlanMask = 0xFFF }, 0, 0),
            Rule(1, new MaskRuleKey(), 0, -2),
            Rule(1, new MaskRuleKey(), -2, 0),
            Rule(1, new MaskRuleKey(), 0x30000, 0),
            Rule(8, new MaskRuleKey { KeyIndex = 7 }, 0, 0),
        };
        foreach (ClassifierWriteRequest r in bad) Assert.True((await _f.Traffic.ClassifierWriteAsync(r)).Status == InvalidArgument, r.ToString());
        Assert.Empty((await _f.Traffic.ClassifierListAsync(new ClassifierListRequest())).Rules);
    }

    [Fact]
    public async Task DPU_46_targets_that_do_not_exist()
    {
        Assert.Equal(NotFound, (await _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), 9, 0))).Status);
        Assert.Equal(NotFound, (await _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), 0x10002, 0))).Status);
        await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "q4", Vport = 4, MaxQpair = 4 });
        Assert.Equal(InvalidArgument, (await _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), 4, 4))).Status);
        Assert.Equal(NotFound, (await _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), 0, 0, meter: 555))).Status);
    }

    [Fact]
    public async Task An_optical_port_the_DPU_lacks_is_refused_with_its_reason_and_the_agent_goes_on()
    {
        AsyncUnaryCall<ClassifierOpsRsp> call = _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), DpuSwitch.OpticalBase + 5, -1));
        Assert.Equal(NotFound, (await call).Status);
        Metadata trailers = call.GetTrailers();
        Assert.Equal(("NOT_FOUND", "optical port 5 does not exist (the DPU has 2)"), (trailers.GetValue("nicscript-status"), trailers.GetValue("nicscript-detail")));
        Assert.Empty((await _f.Traffic.ClassifierListAsync(new ClassifierListRequest())).Rules);
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(Rule(1, new MaskRuleKey(), DpuSwitch.OpticalBase + 1, -1))).Status); // the next request is served
        ClassifierReadResponse read = await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 1 });
        Assert.Equal((0x20001, -1), (read.Action.Vid, read.Action.Qid));
    }

    [Fact]
    public async Task DPU_47_read_returns_the_rule_as_written_and_missing_rules_are_zeros()
    {
        MaskRuleKey key = Dip(0x0A000007, 0xFFFFFFFF);
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(Rule(100, key, 0, 1))).Status);
        ClassifierReadResponse r = await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 100 });
        Assert.Equal((Ok, 100, "ipv4", 0x0A000007u, 0, 1), (r.Status, r.MaskRuleKey.KeyIndex, r.MaskRuleKey.IpType, r.MaskRuleKey.Dip[0], r.Action.Vid, r.Action.Qid));
        ClassifierReadResponse missing = await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 101 });
        Assert.Equal((NotFound, 0, 0, ""), (missing.Status, missing.Action.Vid, missing.MaskRuleKey.KeyIndex, missing.MaskRuleKey.IpType));
        Assert.Equal(NotFound, (await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 101 })).Status);
        Assert.Equal(Ok, (await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 100 })).Status);
    }

    [Fact]
    public async Task DPU_48_an_identical_write_keeps_the_rule_and_a_changed_one_replaces_it()
    {
        await _f.Traffic.ClassifierWriteAsync(Rule(100, Dip(0x0A000007, 0xFFFFFFFF), 0, 1));
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(Rule(100, Dip(0x0A000007, 0xFFFFFFFF), 0, 1))).Status);
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(Rule(100, Dip(0x0A000007, 0xFFFFFFFF), 0, 0))).Status);
        Assert.Equal(0, (await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 100 })).Action.Qid);
    }

    [Fact]
    public async Task DPU_49_a_full_table_refuses_new_keys_but_not_rewrites()
    {
        await using DpuAgentFixture small = await StartAsync(new DpuConfig { ClassifierTable = 8 });
        await small.Nic.NewPortAsync(new NewPortRequest { Uuid = "a" });
        ClassifierCapabilityResponse cap = await small.Traffic.ClassifierCapabilityAsync(new ClassifierCapabilityRequest());
        Assert.Equal((8u, 8u), (cap.Total, cap.Free));
        for (int k = 0; k < 8; k++) Assert.Equal(Ok, (await small.Traffic.ClassifierWriteAsync(Rule(k, Dip((uint)(0x0A000000 + k), 0xFFFFFFFF), 0, 0))).Status);
        Assert.Equal(0u, (await small.Traffic.ClassifierCapabilityAsync(new ClassifierCapabilityRequest())).Free);
        Assert.Equal(NoResource, (await small.Traffic.ClassifierWriteAsync(Rule(9, new MaskRuleKey(), 0, 0))).Status);
        Assert.Equal(Ok, (await small.Traffic.ClassifierWriteAsync(Rule(3, new MaskRuleKey(), 0, 0))).Status);
        await small.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 5 });
        Assert.Equal(1u, (await small.Traffic.ClassifierCapabilityAsync(new ClassifierCapabilityRequest())).Free);
        ClassifierListResponse list = await small.Traffic.ClassifierListAsync(new ClassifierListRequest());
        Assert.Equal([0, 1, 2, 3, 4, 6, 7], list.Rules.Select(r => r.MaskRuleKey.KeyIndex));
        foreach (ClassifierReadResponse r in list.Rules)
            Assert.Equal(await small.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = r.MaskRuleKey.KeyIndex }), r);
    }

    private static EthMacBondSetRequest Bond(bool enable, params (string, string)[] opts)
    {
        var r = new EthMacBondSetRequest { Enable = enable };
        r.BondOpts.AddRange(opts.Select(o => new BondOpts { OptName = o.Item1, Value = o.Item2 }));
        return r;
    }

    [Fact]
    public async Task DPU_60_bond_option_answers()
    {
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("foo", "1")))).Status);
        Assert.Equal(Unsupported, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("arp_interval", "100")))).Status);
        Assert.Equal(Unsupported, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("mode", "balance-alb")))).Status);
        Assert.Equal(Unsupported, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("mode", "802.3ad")))).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("miimon", "-5")))).Status);
        Assert.Equal(NotFound, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("members", "0,7")))).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("members", "0"), ("primary", "1")))).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("mode", "active-backup"), ("mode", "balance-rr")))).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(Bond(false, ("mode", "active-backup")))).Status);
        Assert.Equal(InvalidArgument, (await _f.Optical.EthMacBondSetAsync(new EthMacBondSetRequest())).Status);
        Assert.Equal(Ok, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("mode", "active-backup"), ("miimon", "100"), ("updelay", "250")))).Status);
        EthMacBondGetResponse b = await _f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest());
        Assert.Contains(b.BondOpts, o => o.OptName == "updelay" && o.Value == "200");
        Assert.Equal(Ok, (await _f.Optical.EthMacBondSetAsync(Bond(true, ("mode", "active-backup"), ("miimon", "100"), ("updelay", "250")))).Status);
        Assert.Equal(Ok, (await _f.Optical.EthMacBondSetAsync(new EthMacBondSetRequest { Enable = false })).Status);
        Assert.False((await _f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest())).Enable);
    }

    [Fact]
    public async Task DPU_72_a_missing_field_is_invalid_with_trailers_naming_it()
    {
        AsyncUnaryCall<PortOpsRep> call = _f.Nic.DelPortAsync(new DelPortRequest());
        PortOpsRep r = await call;
        Assert.Equal(InvalidArgument, r.Status);
        Metadata trailers = call.GetTrailers();
        Assert.Equal("INVALID_ARGUMENT", trailers.GetValue("nicscript-status"));
        Assert.Contains("vport", trailers.GetValue("nicscript-detail"));
        Assert.Equal(Ok, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 0 })).Status);
    }

    [Fact]
    public async Task DPU_73_an_undecodable_body_and_an_unknown_method_are_grpc_errors_that_change_nothing()
    {
        var invoker = _f.Channel.CreateCallInvoker();
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "nicscript.dpu.v1.ElasticNicService", "NewPort",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(raw, null, new CallOptions(), [0xFF, 0xFF, 0xFF]));
        Assert.NotEqual(StatusCode.OK, e.StatusCode);
        var unknown = new Method<byte[], byte[]>(MethodType.Unary, "nicscript.dpu.v1.ElasticNicService", "Explode",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(unknown, null, new CallOptions(), []))).StatusCode);
        Assert.Equal(13u, (await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
    }

    [Fact]
    public async Task DPU_71_reflection_lists_the_six_services()
    {
        var client = new ServerReflection.ServerReflectionClient(_f.Channel);
        using var call = client.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (string s in new[] { "ElasticNicService", "VdiskService", "MeterService", "TrafficControlService", "PortStatsService", "OpticalPortService" })
            Assert.Contains("nicscript.dpu.v1." + s, names);
    }
}
