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

/// <summary>DPU-62, 64…68: acknowledged changes survive a restart; the writer serialises concurrent clients.</summary>
public sealed class DpuDurabilityTests
{
    [Fact]
    public async Task DPU_62_and_64_a_restart_on_the_same_state_has_every_acknowledged_change_and_replays_answer_ok()
    {
        using var dir = new TempDir();
        string before;
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
        {
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "a", Mtu = 9000 })).Status);
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7 })).Status);
            Assert.Equal(0u, (await a.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 4000 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "d", PvfId = 3 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 3, NumberSectors = 2048 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 3, Pause = true })).Status);
            Assert.Equal(0u, (await a.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 100 })).Status);
            Assert.Equal(0u, (await a.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 4, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 7, Qid = 0, MeterId = 5 } })).Status);
            Assert.Equal(0u, (await a.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 1 })).Status);
            Assert.Equal(0u, (await a.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 1, Mtu = 9000 })).Status);
            Assert.Equal(0u, (await a.Optical.EthMacBondSetAsync(new EthMacBondSetRequest { Enable = true, BondOpts = { new BondOpts { OptName = "mode", Value = "active-backup" } } })).Status);
            before = await Snapshot(a);
        }
        await using DpuAgentFixture b = await StartAsync(stateDir: dir);
        Assert.Equal(before, await Snapshot(b));
        Assert.Equal(2u, (await b.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 3 })).TransStatus);
        Assert.Equal(1u, (await b.Meter.MeterGetAsync(new MeterGetRequest { Id = 5 })).RefCnt);
        Assert.True(b.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(7), out _)); // functions rebuilt from the rows
        PortOpsRep replay = await b.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7 });
        Assert.Equal((0u, 7u), (replay.Status, replay.Vport));
        Assert.Equal(0u, (await b.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 100 })).Status);
        Assert.Equal(3u, (await b.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "d", PvfId = 3 })).PvfId);
    }

    [Fact]
    public async Task Changes_that_queue_up_behind_a_commit_share_the_next_one_and_all_survive_a_restart()
    {
        using var dir = new TempDir();
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
        {
            using var hold = new ManualResetEventSlim();
            using var holding = new SemaphoreSlim(0);
            a.Agent.Store.BeforeCommit = () =>
            {
                if (hold.IsSet) return;
                holding.Release();
                hold.Wait(TimeSpan.FromSeconds(30)); // the writer waits here with the first change
            };
            long before = a.Agent.Store.Commits;
            Task<MeterOpsRsp> first = a.Meter.MeterAddAsync(new MeterAddRequest { Id = 1000, Rate = 1 }).ResponseAsync;
            Assert.True(await holding.WaitAsync(TimeSpan.FromSeconds(30)));
            var queued = Enumerable.Range(0, 50).Select(i => a.Meter.MeterAddAsync(new MeterAddRequest { Id = (uint)i, Rate = 1 }).ResponseAsync).ToList();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (a.Agent.Pending < 50 && DateTime.UtcNow < deadline) await Task.Delay(5); // all fifty wait behind the first commit
            Assert.Equal(50, a.Agent.Pending);
            hold.Set();
            Assert.Equal(0u, (await first).Status);
            Assert.All(await Task.WhenAll(queued), r => Assert.Equal(0u, r.Status));
            Assert.Equal(2, a.Agent.Store.Commits - before); // the first, then the fifty in one transaction
        }
        await using DpuAgentFixture b = await StartAsync(stateDir: dir);
        Assert.Equal(51, (await b.Meter.MeterListAsync(new MeterListRequest())).Meters.Count);
    }

    private static async Task<string> Snapshot(DpuAgentFixture f) => string.Join('\n',
        (await f.Nic.QueryPortAsync(new QueryPortRequest())).ToString(), (await f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = false })).ToString(),
        (await f.Meter.MeterListAsync(new MeterListRequest())).ToString(), (await f.Traffic.ClassifierListAsync(new ClassifierListRequest())).ToString(),
        (await f.Traffic.ProcSwitchListAsync(new ProcSwitchListRequest())).ToString(), (await f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest())).ToString(),
        (await f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 0 })).ToString(), (await f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 1 })).ToString());

    [Fact]
    public async Task DPU_65_a_failing_commit_is_unavailable_and_changes_nothing()
    {
        await using DpuAgentFixture f = await StartAsync();
        f.Agent.Store.FailCommits = true;
        Assert.Equal(9u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "z" })).Status);
        Assert.Empty((await f.Nic.QueryPortAsync(new QueryPortRequest())).Ports);
        Assert.Equal(16u, (await f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        Assert.False(f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out _));
        f.Agent.Store.FailCommits = false;
        Assert.Equal(0u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "z" })).Status);
    }

    [Fact]
    public async Task DPU_66_a_state_that_does_not_fit_the_machine_is_refused_naming_the_object()
    {
        using var dir = new TempDir();
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "x", Vport = 12 })).Status);
        var e = await Assert.ThrowsAsync<UserErrorException>(() => StartAsync(new DpuConfig { ElasticNicSlots = 8 }, dir));
        Assert.Equal("vport 12 is stored but the machine has 8 elastic NIC slots", e.Message);
    }

    [Fact]
    public async Task DPU_67_sixteen_clients_race_for_four_slots()
    {
        await using DpuAgentFixture f = await StartAsync(new DpuConfig { ElasticNicSlots = 4 });
        PortOpsRep[] replies = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"c{i}" }).ResponseAsync));
        Assert.Equal(4, replies.Count(r => r.Status == 0));
        Assert.Equal(4, replies.Where(r => r.Status == 0).Select(r => r.Vport).Distinct().Count());
        Assert.Equal(12, replies.Count(r => r.Status == 3));
        Assert.Equal(0u, (await f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
    }

    [Fact]
    public async Task DPU_68_two_adds_of_one_meter_one_wins()
    {
        await using DpuAgentFixture f = await StartAsync();
        MeterOpsRsp[] r = await Task.WhenAll(f.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 1000 }).ResponseAsync, f.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 2000 }).ResponseAsync);
        Assert.Equal([0u, 2u], r.Select(x => x.Status).Order());
        uint won = r[0].Status == 0 ? 1000u : 2000u;
        Assert.Equal(won, (await f.Meter.MeterGetAsync(new MeterGetRequest { Id = 5 })).Rate);
    }
}

/// <summary>The <c>dpu</c> script handle: the same agent objects from JavaScript (plain objects) and C# (the generated messages).</summary>
public sealed class DpuHandleTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_provision_script_creates_ports_a_disk_a_meter_and_a_rule_and_prints_the_tables()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        string state = Path.Combine(_dir.Path, "dpu");
        string[] args = ["run", Path.Combine(Repo.Root, "manifests/dpu-provision.yml"), "--dpu-state", state, "--cache", _dir.Path];
        Assert.Equal(0, await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error), args));
        string log = error.ToString();
        Assert.Contains("refused as expected: ALREADY_EXISTS (2): uuid web is vport 0 with other settings", log);
        Assert.Contains("port vport 0 uuid web mac 024e53000000 mtu 9000 qpairs 4 depth 1024", log);
        Assert.Contains("vdisk 0 root: 41943040 sectors, 2 queue(s), PF_TYPE", log);
        Assert.Contains("meter 10: rate 8000 kbit/s, used by 1 rule(s)", log);
        Assert.Contains("rule 100: dip 0xa000007 → vport 0 queue 1 meter 10", log);
        Assert.Contains("14 of 16 elastic NIC", output.ToString());
        var again = new StringWriter();
        Assert.Equal(0, await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), again), args));
        Assert.Contains("14 of 16", again.ToString() + output.ToString()); // idempotent: the stored state is reused, nothing added
    }

    [Fact]
    public void A_CSharp_script_uses_the_generated_messages_and_gets_a_DpuException()
    {
        const string script = """
            using NicScript.Dpu.V1;
            using NicScript.Host.Capabilities;
            var rep = Dpu.NewPort(new NewPortRequest { Uuid = "cs", Mtu = 4000 });
            var cfg = Dpu.GetPortCfg(new GetPortCfgRequest { Vport = rep.Vport });
            string result = $"vport {rep.Vport} mtu {cfg.Mtu}";
            try { Dpu.DelPort(new DelPortRequest { Vport = 9 }); }
            catch (DpuException e) { result += $", {e.Status} {e.Code} {e.Detail}"; }
            Dpu.NoThrow = true;
            return result + ", no-throw status " + Dpu.DelPort(new DelPortRequest { Vport = 9 }).Status;
            """;
        var report = ScriptRun.Single("dpu.csx", script, "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE");
        Assert.True(report.Status == NicScript.Host.Runtime.VNodeStatus.Completed, report.Error);
        Assert.Equal("vport 0 mtu 4000, NOT_FOUND 1 vport 9 does not exist, no-throw status 1", report.Result);
        var denied = ScriptRun.Single("dpu.js", "dpu.getPortCapability({});", "  - CAP_LOG_WRITE");
        Assert.Contains("CAP_DPU_ADMIN not granted", denied.Error);
    }
}

/// <summary>DPU-69, DPU-70: races between writers, and readers against a writer, never see half a change.</summary>
public sealed class DpuRaceTests
{
    [Fact]
    public async Task DPU_69_a_delete_raced_against_a_rule_write_ends_one_way_or_the_other()
    {
        await using DpuAgentFixture f = await StartAsync();
        for (int round = 0; round < 100; round++)
        {
            Assert.Equal(0u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"r{round}", Vport = 3 })).Status);
            Task<PortOpsRep> del = f.Nic.DelPortAsync(new DelPortRequest { Vport = 3 }).ResponseAsync;
            Task<ClassifierOpsRsp> write = f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 3, Qid = 0 } }).ResponseAsync;
            PortOpsRep delReply = await del;
            ClassifierOpsRsp writeReply = await write;
            var outcome = (delReply.Status, writeReply.Status);
            Assert.True(outcome is (0, 1) or (5, 0), $"round {round}: DelPort {outcome.Item1}, ClassifierWrite {outcome.Item2}");
            ClassifierListResponse rules = await f.Traffic.ClassifierListAsync(new ClassifierListRequest());
            QueryPortResponse ports = await f.Nic.QueryPortAsync(new QueryPortRequest());
            Assert.All(rules.Rules, r => Assert.Contains(ports.Ports, p => p.Vport == (uint)r.Action.Vid));
            if (writeReply.Status == 0) await f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 1 });
            if (delReply.Status != 0) await f.Nic.DelPortAsync(new DelPortRequest { Vport = 3 });
        }
    }

    [Fact]
    public async Task DPU_70_a_reader_sees_each_rule_exactly_as_one_write_made_it()
    {
        await using DpuAgentFixture f = await StartAsync();
        await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a", MaxQpair = 2 });
        await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", MaxQpair = 2 });
        var a = new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey { IpType = "ipv4", Dip = { 0x0A000001 }, DipMask = { 0xFFFFFFFF } }, Action = new RuleAction { Vid = 0, Qid = 0 } };
        var b = new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey { IpType = "ipv4", Dip = { 0x0A000002 }, DipMask = { 0xFFFFFFFF } }, Action = new RuleAction { Vid = 1, Qid = 1 } };
        await f.Traffic.ClassifierWriteAsync(a);
        using var stop = new CancellationTokenSource();
        int seen = 0;
        Task reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                ClassifierReadResponse r = (await f.Traffic.ClassifierListAsync(new ClassifierListRequest())).Rules.Single();
                bool isA = r.MaskRuleKey.Dip[0] == 0x0A000001 && r.Action.Vid == 0 && r.Action.Qid == 0;
                bool isB = r.MaskRuleKey.Dip[0] == 0x0A000002 && r.Action.Vid == 1 && r.Action.Qid == 1;
                Assert.True(isA || isB, $"a torn rule: {r}");
                seen++;
            }
        });
        for (int i = 0; i < 1000; i++) Assert.Equal(0u, (await f.Traffic.ClassifierWriteAsync(i % 2 == 0 ? b : a)).Status);
        stop.Cancel();
        await reader;
        Assert.True(seen > 0);
    }
}

/// <summary>DPU-71's second half: a client generated from the seed's proto2 text talks to the agent and accepts its replies as initialized.</summary>
public sealed class DpuSeedClientTests
{
    private static Method<TReq, TRes> Unary<TReq, TRes>(string name, MessageParser<TReq> req, MessageParser<TRes> res)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new(MethodType.Unary, "nicscript.dpu.v1.ElasticNicService", name,
            Marshallers.Create<TReq>(m => m.ToByteArray(), req.ParseFrom), Marshallers.Create<TRes>(m => m.ToByteArray(), res.ParseFrom));

    [Fact]
    public async Task DPU_71_a_proto2_client_from_the_seed_gets_initialized_replies()
    {
        await using DpuAgentFixture f = await StartAsync();
        CallInvoker invoker = f.Channel.CreateCallInvoker();
        Seed.PortOpsRep created = await invoker.AsyncUnaryCall(Unary("NewPort", Seed.NewPortRequest.Parser, Seed.PortOpsRep.Parser), null, new CallOptions(), new Seed.NewPortRequest { Uuid = "seed" });
        Assert.True(created.IsInitialized(), "PortOpsRep{status 0, vport 0} must carry both required fields");
        Assert.Equal((0u, 0u), (created.Status, created.Vport));
        Seed.GetPortCfgResponse cfg = await invoker.AsyncUnaryCall(Unary("GetPortCfg", Seed.GetPortCfgRequest.Parser, Seed.GetPortCfgResponse.Parser), null, new CallOptions(), new Seed.GetPortCfgRequest { Vport = 0 });
        Assert.True(cfg.IsInitialized());
        Assert.Equal(("seed", 1500u, 0u), (cfg.Uuid, cfg.Mtu, cfg.ActiveQpair));
        Seed.GetPortCfgResponse missing = await invoker.AsyncUnaryCall(Unary("GetPortCfg", Seed.GetPortCfgRequest.Parser, Seed.GetPortCfgResponse.Parser), null, new CallOptions(), new Seed.GetPortCfgRequest { Vport = 9 });
        Assert.True(missing.IsInitialized()); // an error reply too: zeros are sent, not left out
        Assert.Equal(1u, missing.Status);
    }
}

/// <summary><c>nicscript serve</c> at the command line: the machine file's dpu block, a stored state that does not fit (DPU-66).</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_refuses_a_state_that_does_not_fit_the_machine_with_one_line_and_exit_1()
    {
        using var dir = new TempDir();
        string state = Path.Combine(dir.Path, "state");
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "x", Vport = 12 })).Status);
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(new StringWriter()) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), error),
            ["serve", "--machine", Path.Combine(Repo.Root, "manifests/machines/small-dpu.yml"), "--state", state, "--listen", "127.0.0.1:0", "--duration", "1s"]);
        Assert.Equal(1, exit);
        Assert.Equal("vport 12 is stored but the machine has 4 elastic NIC slots", error.ToString().Trim());
        var again = new StringWriter();
        exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), again),
            ["serve", "--machine", Path.Combine(Repo.Root, "manifests/machines/small-dpu.yml"), "--state", state, "--reset-state", "--listen", "127.0.0.1:0", "--duration", "200ms"]);
        Assert.Equal(0, exit);
        Assert.Contains("0 ports", again.ToString());
    }

    [Fact]
    public async Task Serve_names_a_state_directory_it_cannot_use_in_one_line()
    {
        using var dir = new TempDir();
        string notADatabase = Path.Combine(dir.Path, "state");
        Directory.CreateDirectory(notADatabase);
        File.WriteAllText(Path.Combine(notADatabase, "dpu.sqlite"), "garbage");
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(new StringWriter()) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), error),
            ["serve", "--state", notADatabase, "--listen", "127.0.0.1:0", "--duration", "200ms"]);
        Assert.Equal(1, exit);
        string line = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.Contains("dpu.sqlite: cannot use the DPU state", line);
    }
}
